using System.Text;
using DesLoc.Contract.Wire;

namespace DesLoc.Trainer.Distributed;

/// <summary>
/// A replica's last words: why it stopped, written where the kubelet copies it into the pod's status
/// (<c>terminationMessagePath</c>), so the operator can put it in the job's conditions and Events, and <c>run</c> in
/// its summary. The kubelet keeps at most 4096 bytes.
/// </summary>
internal static class TerminationMessage
{
    public const int MaxBytes = 4096;

    public static void Write(string message, Func<string, string?> environment)
    {
        string path = environment(TrainerEnvironment.TerminationMessagePath) is { Length: > 0 } configured
            ? configured
            : TrainerEnvironment.DefaultTerminationMessageFile;
        try
        {
            File.WriteAllBytes(path, Truncate(message));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Outside a pod there may be no such file: the message still goes to stderr.
        }
    }

    /// <summary>The message as UTF-8, cut to the kubelet's limit without splitting a character.</summary>
    public static byte[] Truncate(string message)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        if (bytes.Length <= MaxBytes)
        {
            return bytes;
        }

        int end = MaxBytes;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80)
        {
            end--;
        }

        return bytes[..end];
    }
}
