namespace Riverbed.Inference;

/// <summary>The least severe message ONNX Runtime prints (to stderr); values are <c>OrtLoggingLevel</c>.</summary>
public enum OrtLogLevel
{
    Verbose = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}
