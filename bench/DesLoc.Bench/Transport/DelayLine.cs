using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace DesLoc.Bench.Transport;

/// <summary>
/// <c>delay-line RATE-MBIT ONE-WAY-MS QUEUE-MS NAME=ADDRESS...</c>: a wide-area link emulated in user space, for kernels
/// built without netem (this one has only tbf and htb). Each NAME is a TUN device this process creates; bench/wan.sh
/// moves each into its own network namespace with ADDRESS. An IPv4 packet a device sends goes to the device that owns
/// its destination address: it waits for that site's downlink (RATE, first come first served), is serialized, then
/// arrives ONE-WAY-MS later; a packet that would wait more than QUEUE-MS for the link is dropped (tail drop, like
/// tbf's latency limit). So TCP meets what it meets on a long fat link: the round trip, the rate, a bounded queue.
/// Not emulated: jitter, reordering, random loss, IPv6 (dropped). Arrivals are released every millisecond, so a
/// site receives in bursts of at most about a millisecond of link time.
/// </summary>
internal static partial class DelayLine
{
    public static int Run(string[] args)
    {
        double bitsPerSecond = double.Parse(args[1], CultureInfo.InvariantCulture) * 1e6;
        long oneWay = Ticks(double.Parse(args[2], CultureInfo.InvariantCulture));
        long queueLimit = Ticks(double.Parse(args[3], CultureInfo.InvariantCulture));
        var downlinks = new Dictionary<uint, Downlink>();
        var devices = new List<(string Name, int Descriptor)>();
        foreach (string site in args[4..])
        {
            string[] parts = site.Split('=');
            int descriptor = Tun.Open(parts[0]);
            devices.Add((parts[0], descriptor));
            downlinks[BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(parts[1]).GetAddressBytes())] =
                new Downlink(descriptor, bitsPerSecond, oneWay, queueLimit);
        }

        foreach (Downlink downlink in downlinks.Values)
        {
            new Thread(downlink.Deliver) { IsBackground = true, Name = "deliver" }.Start();
        }

        foreach ((string name, int descriptor) in devices)
        {
            new Thread(() => Forward(descriptor, downlinks)) { IsBackground = true, Name = $"read {name}" }.Start();
        }

        Console.WriteLine("READY");
        Thread.Sleep(Timeout.Infinite);   // until bench/wan.sh down kills it; the devices vanish with their descriptors
        return 0;
    }

    private static long Ticks(double milliseconds) => (long)(milliseconds / 1000 * Stopwatch.Frequency);

    /// <summary>Reads one device's packets and hands each to the downlink of its destination.</summary>
    private static void Forward(int descriptor, Dictionary<uint, Downlink> downlinks)
    {
        while (true)
        {
            byte[] packet = ArrayPool<byte>.Shared.Rent(Tun.MaxPacketBytes);
            int length = Tun.Read(descriptor, packet);
            bool ipv4 = length >= 20 && packet[0] >> 4 == 4;
            if (ipv4 && downlinks.TryGetValue(BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(16)), out Downlink? downlink))
            {
                downlink.Offer(packet, length, Stopwatch.GetTimestamp());
            }
            else
            {
                ArrayPool<byte>.Shared.Return(packet);
            }
        }
    }

    /// <summary>One site's incoming link: a FIFO that serializes at the rate, then delays by the one-way time.</summary>
    private sealed class Downlink(int descriptor, double bitsPerSecond, long oneWay, long queueLimit)
    {
        private readonly Queue<(byte[] Packet, int Length, long Arrival)> _queue = new();
        private readonly Lock _gate = new();
        private long _linkFree;

        public void Offer(byte[] packet, int length, long now)
        {
            lock (_gate)
            {
                long start = Math.Max(now, _linkFree);
                if (start - now > queueLimit)
                {
                    ArrayPool<byte>.Shared.Return(packet);
                    return;
                }

                _linkFree = start + (long)(length * 8 / bitsPerSecond * Stopwatch.Frequency);
                _queue.Enqueue((packet, length, _linkFree + oneWay));
            }
        }

        public void Deliver()
        {
            var due = new List<(byte[] Packet, int Length, long Arrival)>();
            while (true)
            {
                long now = Stopwatch.GetTimestamp();
                lock (_gate)
                {
                    while (_queue.TryPeek(out var head) && head.Arrival <= now)
                    {
                        due.Add(_queue.Dequeue());
                    }
                }

                foreach ((byte[] packet, int length, _) in due)
                {
                    Tun.Write(descriptor, packet.AsSpan(0, length));
                    ArrayPool<byte>.Shared.Return(packet);
                }

                if (due.Count == 0)
                {
                    Thread.Sleep(1);
                }

                due.Clear();
            }
        }
    }

    /// <summary>Linux TUN devices through libc: open /dev/net/tun, name it with TUNSETIFF, one packet per read and write.</summary>
    private static partial class Tun
    {
        public const int MaxPacketBytes = 65536;
        private const int ReadWrite = 2;
        private const uint SetInterface = 0x400454CA;   // TUNSETIFF = _IOW('T', 202, int)
        private const short TunNoPacketInfo = 0x0001 | 0x1000;   // IFF_TUN | IFF_NO_PI: bare IP packets

        public static int Open(string name)
        {
            int descriptor = OpenFile("/dev/net/tun", ReadWrite);
            if (descriptor < 0)
            {
                throw new IOException($"open /dev/net/tun failed: errno {Marshal.GetLastPInvokeError()}");
            }

            byte[] request = new byte[40];   // struct ifreq: the name, then the flags
            System.Text.Encoding.ASCII.GetBytes(name, request);
            BinaryPrimitives.WriteInt16LittleEndian(request.AsSpan(16), TunNoPacketInfo);
            return Control(descriptor, SetInterface, request) < 0
                ? throw new IOException($"TUNSETIFF {name} failed: errno {Marshal.GetLastPInvokeError()}")
                : descriptor;
        }

        public static int Read(int descriptor, byte[] packet)
        {
            nint read = ReadFile(descriptor, packet, packet.Length);
            return read < 0 ? throw new IOException($"read from a TUN device failed: errno {Marshal.GetLastPInvokeError()}") : (int)read;
        }

        public static void Write(int descriptor, ReadOnlySpan<byte> packet)
        {
            // A full receiving queue or a device gone down loses the packet, as a wire would.
            _ = WriteFile(descriptor, packet, packet.Length);
        }

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int OpenFile(string path, int flags);

        [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        private static partial int Control(int descriptor, nuint request, byte[] argument);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        private static partial nint ReadFile(int descriptor, byte[] buffer, nint count);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        private static partial nint WriteFile(int descriptor, ReadOnlySpan<byte> buffer, nint count);
    }
}
