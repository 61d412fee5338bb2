using BenchmarkDotNet.Running;
using Riverbed.Bench.Inference;

// `dotnet run -c Release --project bench/Riverbed.Bench -- --filter '*'` runs everything; see bench/README.md.
// `-- facade-vs-binding [batch] [threads] [pairs]` runs the one-process comparison of the ONNX Runtime facade with the
// old hand-written binding (not a BenchmarkDotNet job: it alternates the two paths run by run).
if (args.Length > 0 && args[0] == "facade-vs-binding")
{
    return FacadeVsBindingComparison.Run(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
