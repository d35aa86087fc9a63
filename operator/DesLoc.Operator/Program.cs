using DesLoc.Operator;

// desloc-operator: `serve` reconciles LowCommJobs on a cluster (the container's default), `run FILE` runs one on
// this machine with trainer processes, `crd` prints (or writes) the generated CustomResourceDefinition.
// OperatorCommandLine declares the verbs and their flags; `desloc-operator --help` lists them.
return await OperatorCommandLine.InvokeAsync(args, Console.Out, Console.Error);
