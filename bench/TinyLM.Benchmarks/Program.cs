using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(TinyLM.Benchmarks.MatVecBenchmarks).Assembly).Run(args);
