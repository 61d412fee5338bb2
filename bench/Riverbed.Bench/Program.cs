using BenchmarkDotNet.Running;

// `dotnet run -c Release --project bench/Riverbed.Bench -- --filter '*'` runs everything; see bench/README.md.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
