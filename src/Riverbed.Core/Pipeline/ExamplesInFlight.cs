namespace Riverbed.Pipeline;

/// <summary>
/// The examples being scored, beside the channel that orders them: a scoring task may be started and never reach the
/// writer (the run stopped while it was being sent), so a run that stops — a fault or cancellation — cancels them all
/// here and waits until none of them touches the models any more before it returns.
/// </summary>
internal sealed class ExamplesInFlight : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly HashSet<Task> _running = [];

    public ExamplesInFlight(CancellationToken cancellationToken) => _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

    /// <summary>Starts scoring one example on the thread pool; it is cancelled when the run stops.</summary>
    public Task<T> Start<T>(Func<CancellationToken, Task<T>> score)
    {
        var token = _stop.Token;
        var task = Task.Run(() => score(token), token);
        lock (_running)
        {
            _running.Add(task);
        }
        // Runs at once if the task is already done, and always after the Add above.
        task.ContinueWith(static (done, state) => ((ExamplesInFlight)state!).Forget(done), this, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    /// <summary>Cancels every example still being scored (and any the reader starts before it has stopped).</summary>
    public void Cancel() => _stop.Cancel();

    /// <summary>Cancels every example still being scored and waits for them; their errors are consequences of the stop.</summary>
    public async Task StopAsync()
    {
        Cancel();
        Task[] running;
        lock (_running)
        {
            running = [.. _running];
        }
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The cause of the stop is reported by the run; what the stopped examples throw is not.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    public void Dispose() => _stop.Dispose();

    private void Forget(Task task)
    {
        lock (_running)
        {
            _running.Remove(task);
        }
    }
}
