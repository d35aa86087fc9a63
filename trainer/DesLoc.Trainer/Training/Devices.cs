using static TorchSharp.torch;

namespace DesLoc.Trainer.Training;

internal static class Devices
{
    /// <summary>CUDA when libtorch sees a GPU, else the CPU.</summary>
    public static Device Preferred() => cuda.is_available() ? CUDA : CPU;
}
