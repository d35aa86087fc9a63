using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Sets VER_FLG_WEAK on one version need (an Elf64_Vernaux entry of .gnu.version_r) of a shared library,
/// unless the system libstdc++ already defines that version. Idempotent; edits two bytes in place.
/// </summary>
public sealed class MarkElfVersionNeedWeak : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    private static readonly string[] s_systemLibStdCxx =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    [Required] public string LibraryPath { get; set; } = "";
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        if (SystemProvides(VersionName))
        {
            Log.LogMessage(MessageImportance.Low, $"System libstdc++ provides {VersionName}; {LibraryPath} left as is.");
            return true;
        }

        byte[] elf = File.ReadAllBytes(LibraryPath);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2)
        {
            Log.LogError($"{LibraryPath} is not a 64-bit ELF file.");
            return false;
        }

        long sectionTable = (long)BitConverter.ToUInt64(elf, 0x28);
        int sectionSize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < sectionCount; i++)
        {
            long header = sectionTable + (long)i * sectionSize;
            if (BitConverter.ToUInt32(elf, (int)header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            long verneedOffset = (long)BitConverter.ToUInt64(elf, (int)header + 0x18);
            int stringSection = (int)BitConverter.ToUInt32(elf, (int)header + 0x28);
            int verneedCount = (int)BitConverter.ToUInt32(elf, (int)header + 0x2C);
            long strings = (long)BitConverter.ToUInt64(elf, (int)(sectionTable + (long)stringSection * sectionSize) + 0x18);
            return MarkWeak(elf, verneedOffset, verneedCount, strings);
        }

        Log.LogError($"{LibraryPath} has no .gnu.version_r section.");
        return false;
    }

    private bool MarkWeak(byte[] elf, long verneed, int verneedCount, long strings)
    {
        for (int n = 0; n < verneedCount; n++)
        {
            int auxCount = BitConverter.ToUInt16(elf, (int)verneed + 2);
            long aux = verneed + BitConverter.ToUInt32(elf, (int)verneed + 8);
            for (int a = 0; a < auxCount; a++)
            {
                string name = ReadString(elf, strings + BitConverter.ToUInt32(elf, (int)aux + 8));
                if (name == VersionName)
                {
                    ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                    if ((flags & VerFlgWeak) != 0)
                    {
                        return true;
                    }

                    // Two bytes, written in place: the rest of the file is untouched.
                    using (var file = new FileStream(LibraryPath, FileMode.Open, FileAccess.Write))
                    {
                        file.Seek(aux + 4, SeekOrigin.Begin);
                        file.Write(BitConverter.GetBytes((ushort)(flags | VerFlgWeak)), 0, 2);
                    }

                    Log.LogMessage(MessageImportance.Normal, $"Marked version need {VersionName} weak in {LibraryPath}.");
                    return true;
                }

                aux += BitConverter.ToUInt32(elf, (int)aux + 12);
            }

            verneed += BitConverter.ToUInt32(elf, (int)verneed + 12);
        }

        Log.LogMessage(MessageImportance.Low, $"{LibraryPath} does not need {VersionName}.");
        return true;
    }

    private static string ReadString(byte[] elf, long offset)
    {
        int end = (int)offset;
        while (elf[end] != 0)
        {
            end++;
        }

        return Encoding.ASCII.GetString(elf, (int)offset, end - (int)offset);
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return true;
            }
        }

        return false;
    }

    private static bool SystemProvides(string versionName)
    {
        byte[] needle = Encoding.ASCII.GetBytes(versionName + "\0");
        foreach (string path in s_systemLibStdCxx)
        {
            if (File.Exists(path))
            {
                return Contains(File.ReadAllBytes(path), needle);
            }
        }

        return false;
    }
}
