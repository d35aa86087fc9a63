using System.Buffers.Binary;
using System.Text;

namespace DesLoc.Trainer.Tests.Native;

/// <summary>Reads the version needs (.gnu.version_r) of a 64-bit ELF file, to check the build's weak-version fix.</summary>
internal static class ElfVersionNeeds
{
    public static bool IsWeakOrAbsent(byte[] elf, string version)
    {
        ReadOnlySpan<byte> span = elf;
        long sections = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]);
        int size = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        for (int i = 0; i < count; i++)
        {
            int header = (int)(sections + (long)i * size);
            if (BinaryPrimitives.ReadUInt32LittleEndian(span[(header + 4)..]) != 0x6ffffffe)
            {
                continue;
            }

            int verneed = (int)BinaryPrimitives.ReadUInt64LittleEndian(span[(header + 0x18)..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(header + 0x28)..]);
            int entries = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(header + 0x2C)..]);
            int strings = (int)BinaryPrimitives.ReadUInt64LittleEndian(span[(int)(sections + (long)link * size + 0x18)..]);
            for (int n = 0; n < entries; n++)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(span[(verneed + 2)..]);
                int aux = verneed + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(verneed + 8)..]);
                for (int a = 0; a < auxCount; a++)
                {
                    int name = strings + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 8)..]);
                    int end = span[name..].IndexOf((byte)0);
                    if (Encoding.ASCII.GetString(span.Slice(name, end)) == version)
                    {
                        return (BinaryPrimitives.ReadUInt16LittleEndian(span[(aux + 4)..]) & 2) != 0;
                    }

                    aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 12)..]);
                }

                verneed += (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(verneed + 12)..]);
            }
        }

        return true;
    }
}
