using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace TinyLM.Formats;

/// <summary>
/// A read-only block of model bytes at a fixed address: a memory-mapped file (native), or a pinned
/// managed array (the browser, tests). Tensor weights are read in place through
/// <see cref="Pointer"/>; nothing is copied. Dispose to unmap or unpin.
/// </summary>
/// <remarks>Thread-safe for reads. Using spans or pointers after <see cref="Dispose"/> is undefined.</remarks>
public sealed unsafe class ModelBuffer : IDisposable
{
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private byte* _pointer;

    private ModelBuffer(string name, byte* pointer, long length)
    {
        Name = name;
        _pointer = pointer;
        Length = length;
    }

    /// <summary>File path or buffer name, used in error messages.</summary>
    public string Name { get; }

    /// <summary>Size in bytes.</summary>
    public long Length { get; }

    /// <summary>
    /// True when the bytes are a pinned array (<see cref="FromArray"/>, <see cref="ReadFile"/>) rather
    /// than a read-only mapping: <see cref="Models.WeightMatrix.InterleaveRowPanels"/> may then rearrange
    /// a matrix in place.
    /// </summary>
    public bool IsWritable => _pin.IsAllocated;

    /// <summary>Address of the first byte.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public byte* Pointer => _pointer != null || Length == 0 ? _pointer : throw new ObjectDisposedException(Name);

    /// <summary>Maps a file read-only into memory.</summary>
    /// <exception cref="IOException">The file cannot be opened or mapped.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ModelBuffer MapFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"Model file not found: {path}", path);
        if (info.Length == 0)
            return new ModelBuffer(path, null, 0);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, info.Length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            return new ModelBuffer(path, p, info.Length) { _map = map, _view = view };
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Wraps a managed array, pinning it until disposed. The array must not change afterwards, except
    /// through <see cref="Models.WeightMatrix.InterleaveRowPanels"/>.
    /// </summary>
    public static ModelBuffer FromArray(byte[] data, string name = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(data);
        GCHandle pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        return new ModelBuffer(name, (byte*)pin.AddrOfPinnedObject(), data.Length) { _pin = pin };
    }

    /// <summary>Reads a whole file into a pinned array (for platforms without memory mapping).</summary>
    public static ModelBuffer ReadFile(string path) => FromArray(File.ReadAllBytes(path), path);

    /// <summary>The bytes <c>[offset, offset + length)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the buffer.</exception>
    public ReadOnlySpan<byte> GetSpan(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range [{offset}, {offset}+{length}) is outside {Name} ({Length} bytes).");
        return new ReadOnlySpan<byte>(Pointer + offset, length);
    }

    /// <summary>
    /// Tells the operating system that the whole pages inside <c>[start, start + length)</c> are not
    /// needed now (Linux <c>madvise(MADV_DONTNEED)</c>): they leave the process's resident memory and
    /// are read from the file again if touched. Used after a copy of the bytes was made (weights
    /// repacked at load), so the process does not hold both. Does nothing unless this buffer is a
    /// memory-mapped file on Linux; ranges outside the buffer are ignored.
    /// </summary>
    public void ReleasePages(byte* start, long length)
    {
        if (_view is null || !OperatingSystem.IsLinux() || length <= 0 || start < _pointer || start + length > _pointer + Length)
            return;
        nint page = Environment.SystemPageSize;
        nint first = ((nint)start + page - 1) & ~(page - 1), end = (nint)(start + length) & ~(page - 1);
        if (end > first)
            _ = Madvise(first, (nuint)(end - first), MadviseDontNeed);
    }

    private const int MadviseDontNeed = 4;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    /// <summary>Unmaps or unpins the bytes.</summary>
    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map!.Dispose();
            _view = null;
            _map = null;
        }
        if (_pin.IsAllocated)
            _pin.Free();
        _pointer = null;
    }
}
