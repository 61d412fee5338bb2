using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Riverbed.Runner.Tests.Report.Browser;

/// <summary>One DevTools event: its method, the session it came from (null for the browser), and its parameters.</summary>
internal sealed record CdpEvent(string Method, string? SessionId, JsonElement Params);

/// <summary>
/// A minimal Chrome DevTools Protocol client over a WebSocket: commands are JSON messages with an id, answered by a
/// message with the same id; everything else is an event, recorded in arrival order. Flattened sessions (one
/// connection, a sessionId per attached page) keep it to a single socket.
/// </summary>
internal sealed class CdpClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly Dictionary<int, TaskCompletionSource<JsonElement>> _pending = [];
    private readonly List<CdpEvent> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;

    public static async Task<CdpClient> ConnectAsync(string endpoint)
    {
        var client = new CdpClient();
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await client._socket.ConnectAsync(new Uri(endpoint), CancellationToken.None);
        client._receiving = Task.Run(client.ReceiveAsync);
        return client;
    }

    public IReadOnlyList<CdpEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Sends a command and returns its result; a DevTools error throws with its message.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null, string? sessionId = null, TimeSpan? timeout = null)
    {
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        int id;
        lock (_pending)
        {
            id = ++_nextId;
            _pending[id] = answer;
        }
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        if (sessionId is not null)
        {
            message["sessionId"] = sessionId;
        }
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var finished = await Task.WhenAny(answer.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        if (finished != answer.Task)
        {
            throw new TimeoutException($"DevTools did not answer {method}");
        }
        return await answer.Task;
    }

    /// <summary>Waits for an event (already received or still to come) of a method and session.</summary>
    public async Task<CdpEvent> WaitForAsync(string method, string? sessionId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var found = Events.FirstOrDefault(e => e.Method == method && e.SessionId == sessionId);
            if (found is not null)
            {
                return found;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"no {method} event within {timeout.TotalSeconds:N0} s");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // The browser may already be gone; nothing to close.
        }
        try
        {
            await _receiving;
        }
        catch (Exception error) when (error is OperationCanceledException or WebSocketException)
        {
            // Expected when the receive loop is cut off.
        }
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
        {
            var received = await _socket.ReceiveAsync(buffer, _stop.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                break;
            }
            message.Write(buffer, 0, received.Count);
            if (!received.EndOfMessage)
            {
                continue;
            }
            using (var document = JsonDocument.Parse(message.ToArray()))
            {
                Dispatch(document.RootElement.Clone());
            }
            message.SetLength(0);
        }
        lock (_pending)
        {
            foreach (var waiting in _pending.Values)
            {
                waiting.TrySetException(new InvalidOperationException("the DevTools connection closed"));
            }
        }
    }

    private void Dispatch(JsonElement root)
    {
        if (root.TryGetProperty("id", out var idElement))
        {
            TaskCompletionSource<JsonElement>? waiting;
            lock (_pending)
            {
                _pending.Remove(idElement.GetInt32(), out waiting);
            }
            if (root.TryGetProperty("error", out var error))
            {
                waiting?.TrySetException(new InvalidOperationException("DevTools error: " + error.GetRawText()));
            }
            else
            {
                waiting?.TrySetResult(root.TryGetProperty("result", out var result) ? result : default);
            }
            return;
        }
        var method = root.GetProperty("method").GetString()!;
        var sessionId = root.TryGetProperty("sessionId", out var session) ? session.GetString() : null;
        lock (_events)
        {
            _events.Add(new CdpEvent(method, sessionId, root.TryGetProperty("params", out var parameters) ? parameters : default));
        }
    }
}
