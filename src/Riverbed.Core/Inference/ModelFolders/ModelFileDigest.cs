namespace Riverbed.Inference.ModelFolders;

/// <summary>A file of a model folder with its size and SHA-256, for reports and for pinning what a run used.</summary>
public sealed record ModelFileDigest(string Name, string FullPath, long Length, string Sha256);
