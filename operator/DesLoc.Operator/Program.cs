using DesLoc.Operator;
using DesLoc.Operator.Api.Schema;

// desloc-operator: `serve` reconciles LowCommJobs on a cluster (the container's default), `run FILE` runs one on
// this machine with trainer processes, `crd` prints (or writes) the generated CustomResourceDefinition.
return args switch
{
    ["run", string file, .. var rest] => await RunCommand.RunAsync(file, rest),
    ["crd"] => PrintCrd(null),
    ["crd", "--output", string directory] => PrintCrd(directory),
    ["serve", .. var rest] => await ServeCommand.RunAsync(rest),
    ["--help" or "-h" or "help"] => Usage(0),
    _ => Usage(2),
};

static int PrintCrd(string? directory)
{
    if (directory is null)
    {
        Console.Write(CrdGenerator.LowCommJobYaml());
        return 0;
    }

    Directory.CreateDirectory(directory);
    File.WriteAllText(Path.Combine(directory, CrdGenerator.FileName), CrdGenerator.LowCommJobYaml());
    return 0;
}

static int Usage(int code)
{
    (code == 0 ? Console.Out : Console.Error).WriteLine("""
        desloc-operator: low-communication training jobs (LowCommJob, desloc.dev/v1alpha1).

        usage:
          desloc-operator run FILE.yaml [--trainer PATH] [--run-dir DIR]
              run the job on this machine, its replicas as trainer processes, with a live progress display
          desloc-operator serve [--namespace NS] [--metrics-port 8080] [--leader-election[=false]] [--lease-namespace NS]
                                [--identity NAME] [--workers 4] [--server URL]
              reconcile LowCommJobs on the cluster (--server, else $KUBECONFIG, else in-cluster config, else ~/.kube/config)
          desloc-operator crd [--output DIR]
              print the CustomResourceDefinition (or write it to DIR)
        """);
    return code;
}
