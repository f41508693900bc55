using System.Text.Json;
using Microsoft.Playwright;
using TinyLM.Generation;
using TinyLM.Models;

namespace TinyLM.BrowserTests;

/// <summary>The JavaScript API (tinylm.js) in a real Chromium, against the native engine.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiTests(BrowserFixture fx)
{
    private async Task<IPage> OpenAsync()
    {
        IBrowserContext context = await fx.Browser.NewContextAsync();
        IPage page = await context.NewPageAsync();
        await page.GotoAsync(fx.BaseUrl + "/");
        return page;
    }

    private static string NativeGreedy(string prompt, int tokens)
    {
        using Model m = Model.Load(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf"));
        using InferenceSession s = m.CreateSession();
        using TextGeneration g = s.StartGeneration(prompt, new GenerationOptions { MaxTokens = tokens, Temperature = 0 });
        var text = new System.Text.StringBuilder();
        for (string? piece; (piece = g.Step()) is not null;)
            text.Append(piece);
        return text.ToString();
    }

    [BrowserFact]
    public async Task DefaultModel_Greedy64InThePage_EqualsNativeEngine()
    {
        IPage page = await OpenAsync();
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const stages = [];
            const lm = await TinyLM.load('/models/stories260K.gguf', { onProgress: p => stages.push(p.stage) });
            let text = '';
            const it = lm.generate('Once upon a time', { maxTokens: 64, temperature: 0 });
            let step;
            while (!(step = await it.next()).done) text += step.value;
            const info = lm.info;
            await lm.unload();
            return { text, result: step.value, info, stages: [...new Set(stages)] };
        }");
        Assert.Equal(NativeGreedy("Once upon a time", 64), r.GetProperty("text").GetString());
        Assert.Equal(64, r.GetProperty("result").GetProperty("completionTokens").GetInt32());
        Assert.Equal(["download", "verify", "parse", "ready"], r.GetProperty("stages").EnumerateArray().Select(e => e.GetString()!).ToArray());
        JsonElement info = r.GetProperty("info");
        Assert.Equal("llama", info.GetProperty("architecture").GetString());
        Assert.Equal(260_032, info.GetProperty("parameters").GetInt64());
        Assert.Equal("F32", info.GetProperty("quantization").GetString());
        Assert.Equal(512, info.GetProperty("contextLength").GetInt32());
        Assert.Equal(64, info.GetProperty("sha256").GetString()!.Length);
    }
}
