using System.Globalization;

namespace Riverbed.Inference;

/// <summary>Where a session runs: the CPU, or a CUDA device.</summary>
public sealed record ExecutionProvider
{
    private ExecutionProvider(ExecutionProviderKind kind, int deviceId, long? memoryLimitBytes)
    {
        Kind = kind;
        DeviceId = deviceId;
        MemoryLimitBytes = memoryLimitBytes;
    }

    public ExecutionProviderKind Kind { get; }

    /// <summary>The CUDA device ordinal (as CUDA_VISIBLE_DEVICES numbers them); 0 for the CPU.</summary>
    public int DeviceId { get; }

    /// <summary>
    /// The most device memory the session's CUDA arena may take (the CUDA provider's <c>gpu_mem_limit</c>); null leaves
    /// it unlimited. Beyond it a Run fails as an allocation failure, so batches are halved instead of the device
    /// running out under other processes.
    /// </summary>
    public long? MemoryLimitBytes { get; }

    public static ExecutionProvider Cpu { get; } = new(ExecutionProviderKind.Cpu, 0, null);

    public static ExecutionProvider Cuda(int deviceId = 0, long? memoryLimitBytes = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        if (memoryLimitBytes is { } limit)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit, nameof(memoryLimitBytes));
        }
        return new ExecutionProvider(ExecutionProviderKind.Cuda, deviceId, memoryLimitBytes);
    }

    /// <summary>The same device with a memory limit (ignored on the CPU, where the arena is set per environment).</summary>
    public ExecutionProvider WithMemoryLimit(long? memoryLimitBytes) =>
        Kind == ExecutionProviderKind.Cpu ? this : Cuda(DeviceId, memoryLimitBytes);

    /// <summary>Parses "cpu", "cuda" or "cuda:N" (as the CLI's --device takes it).</summary>
    public static bool TryParse(string? text, out ExecutionProvider provider)
    {
        provider = Cpu;
        var value = text?.Trim().ToLowerInvariant();
        switch (value)
        {
            case "cpu":
                return true;
            case "cuda" or "gpu":
                provider = Cuda(0);
                return true;
        }
        if (value is not null && (value.StartsWith("cuda:", StringComparison.Ordinal) || value.StartsWith("gpu:", StringComparison.Ordinal)) &&
            int.TryParse(value.AsSpan(value.IndexOf(':', StringComparison.Ordinal) + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            provider = Cuda(id);
            return true;
        }
        return false;
    }

    public override string ToString() => Kind == ExecutionProviderKind.Cpu
        ? "cpu"
        : string.Create(CultureInfo.InvariantCulture, $"cuda:{DeviceId}");
}

public enum ExecutionProviderKind
{
    Cpu,
    Cuda,
}
