using System.Globalization;

namespace Riverbed.Inference;

/// <summary>Where a session runs: the CPU, or a CUDA device.</summary>
public sealed record ExecutionProvider
{
    private ExecutionProvider(ExecutionProviderKind kind, int deviceId)
    {
        Kind = kind;
        DeviceId = deviceId;
    }

    public ExecutionProviderKind Kind { get; }

    /// <summary>The CUDA device ordinal (as CUDA_VISIBLE_DEVICES numbers them); 0 for the CPU.</summary>
    public int DeviceId { get; }

    public static ExecutionProvider Cpu { get; } = new(ExecutionProviderKind.Cpu, 0);

    public static ExecutionProvider Cuda(int deviceId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        return new ExecutionProvider(ExecutionProviderKind.Cuda, deviceId);
    }

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
