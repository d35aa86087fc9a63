using DesLoc.Operator.Api.Schema;

if (args is ["crd", ..])
{
    Console.Write(CrdGenerator.LowCommJobYaml());
}

return 0;
