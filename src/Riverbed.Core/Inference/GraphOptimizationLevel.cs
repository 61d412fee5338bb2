namespace Riverbed.Inference;

/// <summary>How much ONNX Runtime rewrites the graph before running it (<c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimizationLevel
{
    None = 0,
    Basic = 1,
    Extended = 2,
    Layout = 3,
    All = 99,
}

/// <summary>Whether independent nodes of one Run may execute at the same time (<c>ExecutionMode</c>).</summary>
public enum ExecutionMode
{
    Sequential = 0,
    Parallel = 1,
}
