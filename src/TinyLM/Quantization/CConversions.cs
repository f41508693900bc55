using System.Runtime.CompilerServices;

namespace TinyLM.Quantization;

/// <summary>
/// The C conversions that ggml's reference quantizers rely on, with their exact results as compiled
/// for x86-64 (the prebuilt llama.cpp we compare against).
/// </summary>
internal static class CConversions
{
    /// <summary>
    /// C <c>roundf</c>: rounds half away from zero (<c>MathF.Round</c> alone rounds half to even).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundF(float x) => MathF.Round(x, MidpointRounding.AwayFromZero);

    /// <summary>
    /// C's float-to-integer conversion as x86-64 executes it (<c>cvttss2si</c>/<c>cvttps2dq</c>):
    /// truncation toward zero; NaN and values outside the int32 range give <c>int.MinValue</c>.
    /// </summary>
    /// <remarks>
    /// C leaves out-of-range conversions undefined and .NET saturates them, so this spells the x86
    /// result out. A narrower C target such as <c>(int8_t)x</c> or <c>(uint8_t)x</c> then keeps the
    /// low byte of this value: cast the result to <see cref="sbyte"/> or <see cref="byte"/>.
    /// Only inputs that make the reference divide by a subnormal scale reach the special cases.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TruncateToInt32(float x) => x >= -2147483648f && x < 2147483648f ? (int)x : int.MinValue;
}
