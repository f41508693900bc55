using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using TinyLM.Generation;
using TinyLM.Models;

namespace TinyLM.BrowserTests;

/// <summary>
/// The browser model store (tinylm-store.js) through TinyLM.load and TinyLM.cache in a real Chromium
/// against the real <c>tinylm serve</c>: caching in each backend (also across a browser restart),
/// integrity of cached entries, interrupted downloads, expected checksums, a full quota, the budget.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class StoreTests(BrowserFixture fx)
{
    private const string ModelPath = "/models/stories260K.gguf";
    private const int SmallBudget = 500_000;
    private static readonly byte[] ModelBytes = File.ReadAllBytes(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf"));
    private static readonly string ModelSha256 = Convert.ToHexStringLower(SHA256.HashData(ModelBytes));
    private static readonly Lazy<string> Greedy8 = new(() => NativeGreedy("Once upon a time", 8));

    private string ModelUrl => fx.BaseUrl + ModelPath;

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

    private Task<IBrowserContext> NewContextAsync() => fx.Browser.NewContextAsync(new() { ServiceWorkers = ServiceWorkerPolicy.Block });

    private Task<IBrowserContext> LaunchPersistentAsync(string userDataDir) =>
        fx.Playwright.Chromium.LaunchPersistentContextAsync(userDataDir, new()
        {
            ExecutablePath = BrowserFixture.ChromiumPath,
            Headless = true,
            Args = BrowserFixture.ChromiumArgs,
            ServiceWorkers = ServiceWorkerPolicy.Block,
        });

    private static void AssertLoaded(StoreLoad r, string cacheStatus)
    {
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(cacheStatus, r.CacheStatus);
        Assert.Equal(ModelSha256, r.Sha256);
    }

    private static void AssertFailed(StoreLoad r, string code, params string[] inMessage)
    {
        Assert.False(r.Ok, "expected a failure, got " + r);
        Assert.Equal(code, r.Code);
        foreach (string s in inMessage)
            Assert.Contains(s, r.Message);
    }

    private static void AssertEntry(JsonElement[] entries, string key, string kind)
    {
        JsonElement e = Assert.Single(entries);
        Assert.Equal(key, e.GetProperty("key").GetString());
        Assert.Equal(key, e.GetProperty("url").GetString());
        Assert.Equal("stories260K.gguf", e.GetProperty("name").GetString());
        Assert.Equal(ModelBytes.Length, e.GetProperty("size").GetInt64());
        Assert.Equal(ModelSha256, e.GetProperty("sha256").GetString());
        Assert.Equal(kind, e.GetProperty("kind").GetString());
        Assert.True(DateTimeOffset.TryParse(e.GetProperty("storedAt").GetString(), out _));
    }

    private static readonly string[] Kinds = ["indexeddb", "cache", "opfs"];

    /// <summary>Download progress: increasing bytes up to the model's size, total = size, then verify.</summary>
    private static void AssertDownloadProgress(StoreLoad r)
    {
        StoreProgress[] downloads = r.Downloads.ToArray();
        Assert.True(downloads.Length >= 2, "progress during the download");
        Assert.All(downloads, p => Assert.Equal(ModelBytes.Length, p.Total));
        Assert.All(downloads.Zip(downloads.Skip(1)), pair => Assert.True(pair.Second.Loaded > pair.First.Loaded));
        Assert.Equal(ModelBytes.Length, downloads[^1].Loaded);
        Assert.Equal("verify", r.Progress.SkipWhile(p => p.Stage == "download").First().Stage);
    }

    [BrowserFact]
    public async Task FirstLoadStoresWithProgress_AfterBrowserRestartEachBackendLoadsFromCacheWithoutRequest()
    {
        string profile = Path.Combine(Path.GetTempPath(), "tinylm-store-" + Guid.NewGuid().ToString("N"));
        try
        {
            IBrowserContext first = await LaunchPersistentAsync(profile);
            try
            {
                StorePage page = await StorePage.OpenAsync(first, fx.BaseUrl);
                StoreLoad r = await page.LoadAsync(ModelPath);
                AssertLoaded(r, "stored");
                Assert.False(r.FromCache);
                Assert.Equal(["download", "verify", "parse", "ready"], r.Progress.Select(p => p.Stage).Distinct());
                AssertDownloadProgress(r);
                AssertEntry(await page.ListAsync("indexeddb"), ModelUrl, "indexeddb");
                Assert.Empty(await page.ListAsync("cache"));
                Assert.Empty(await page.ListAsync("opfs"));
                foreach (string kind in new[] { "cache", "opfs" })
                {
                    r = await page.AcquireAsync(ModelPath, new { cache = kind });
                    AssertLoaded(r, "stored");
                    AssertDownloadProgress(r);
                    AssertEntry(await page.ListAsync(kind), ModelUrl, kind);
                }
                Assert.Equal(3, page.ModelRequests);
            }
            finally
            {
                await first.CloseAsync();
            }

            IBrowserContext second = await LaunchPersistentAsync(profile);
            try
            {
                StorePage page = await StorePage.OpenAsync(second, fx.BaseUrl);
                foreach (string kind in Kinds)
                {
                    // Through the worker and engine for the default backend; the store alone for the others.
                    StoreLoad r = kind == "indexeddb"
                        ? await page.LoadAsync(ModelPath, new { cache = kind }, generate: true)
                        : await page.AcquireAsync(ModelPath, new { cache = kind });
                    AssertLoaded(r, "hit");
                    Assert.True(r.FromCache);
                    Assert.All(r.Downloads, p => Assert.Equal("from cache", p.Message));
                    Assert.Equal(ModelBytes.Length, r.Downloads.Last().Loaded);
                    if (kind == "indexeddb")
                        Assert.Equal(Greedy8.Value, r.Text);
                }
                Assert.Equal(0, page.ModelRequests);

                foreach (string kind in Kinds)
                {
                    Assert.True(await page.DeleteAsync(ModelUrl, kind));
                    Assert.Empty(await page.ListAsync(kind));
                    Assert.False(await page.DeleteAsync(ModelUrl, kind));
                    AssertLoaded(await page.AcquireAsync(ModelPath, new { cache = kind }), "stored");
                    Assert.Single(await page.ListAsync(kind));
                    await page.ClearAsync(kind);
                    Assert.Empty(await page.ListAsync(kind));
                }
                Assert.Equal(3, page.ModelRequests);
            }
            finally
            {
                await second.CloseAsync();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [BrowserFact]
    public async Task CorruptedOrTruncatedEntry_IsDetectedDeletedAndFetchedAgain()
    {
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);
            int requests = 0;
            foreach (string kind in Kinds)
            {
                AssertLoaded(await page.AcquireAsync(ModelPath, new { cache = kind }), "stored");
                Assert.Equal(++requests, page.ModelRequests);

                // One byte changed: the size matches, the SHA-256 does not. Through the worker and engine once.
                await page.CorruptAsync(kind, ModelUrl, "flip");
                StoreLoad r = kind == "indexeddb"
                    ? await page.LoadAsync(ModelPath, new { cache = kind }, generate: true)
                    : await page.AcquireAsync(ModelPath, new { cache = kind });
                AssertLoaded(r, "refetched");
                Assert.False(r.FromCache);
                Assert.Equal(++requests, page.ModelRequests);
                Assert.Contains(r.Warnings, w => w.Contains("unusable") && w.Contains("SHA-256") && w.Contains(kind));
                Assert.Contains(r.Progress, p => p.Message is { } m && m.Contains("unusable"));
                if (kind == "indexeddb")
                    Assert.Equal(Greedy8.Value, r.Text);
                AssertEntry(await page.ListAsync(kind), ModelUrl, kind);

                // Cut in half: the size does not match.
                await page.CorruptAsync(kind, ModelUrl, "truncate");
                r = await page.AcquireAsync(ModelPath, new { cache = kind });
                AssertLoaded(r, "refetched");
                Assert.Equal(++requests, page.ModelRequests);
                Assert.Contains(r.Warnings, w => w.Contains("unusable") && w.Contains($"{ModelBytes.Length / 2} bytes"));
                AssertEntry(await page.ListAsync(kind), ModelUrl, kind);

                AssertLoaded(await page.AcquireAsync(ModelPath, new { cache = kind }), "hit");
                Assert.Equal(requests, page.ModelRequests);
            }
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task InterruptedDownload_IsNotCached_AndTheNextLoadSucceeds()
    {
        using var server = new StoreModelServer(ModelBytes);
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);

            // A body shorter than its Content-Length.
            const int Cut = 300_000;
            Func<Task> unroute = await page.OverrideAsync(ModelUrl, route => route.FulfillAsync(new()
            {
                Status = 200,
                BodyBytes = ModelBytes[..Cut],
                Headers = new Dictionary<string, string> { ["Content-Type"] = "application/octet-stream", ["Content-Length"] = ModelBytes.Length.ToString() },
            }));
            AssertFailed(await page.LoadAsync(ModelPath), "network", "cut short", $"{Cut} of {ModelBytes.Length} bytes");
            await unroute();

            // The connection reset in the middle of the body (another origin, with CORS).
            AssertFailed(await page.AcquireAsync(server.Origin + "/cut/stories260K.gguf"), "network", "failed after");
            Assert.Equal(1, server.Requests("/cut/stories260K.gguf"));

            // Aborted by the caller in the middle of a slow download.
            StoreLoad aborted = await page.LoadAsync(server.Origin + "/slow/stories260K.gguf", abortAt: 1);
            AssertFailed(aborted, "aborted");
            Assert.True(aborted.Downloads.Max(p => p.Loaded) is > 0 and < 1_054_336, "aborted mid-way");

            // Not found.
            AssertFailed(await page.AcquireAsync("/models/missing.gguf"), "http", "404");

            foreach (string kind in Kinds)
                Assert.Empty(await page.ListAsync(kind));

            AssertLoaded(await page.AcquireAsync(ModelPath), "stored");
            AssertEntry(await page.ListAsync("indexeddb"), ModelUrl, "indexeddb");
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task NotAModel_FormatError_AndNothingCached()
    {
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);
            Func<Task> unroute = await page.OverrideAsync(ModelUrl, route => route.FulfillAsync(new()
            {
                Status = 200,
                ContentType = "application/octet-stream",
                BodyBytes = new byte[4096],
            }));
            StoreLoad r = await page.LoadAsync(ModelPath);
            AssertFailed(r, "format");
            Assert.Empty(await page.ListAsync("indexeddb"));
            await unroute();
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task ExpectedSha256_MismatchIsAnIntegrityErrorAndNothingCached_MatchLoads()
    {
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);
            string wrong = new('0', 64);
            AssertFailed(await page.LoadAsync(ModelPath, new { expectedSha256 = wrong }), "integrity", ModelSha256, wrong);
            Assert.Equal(1, page.ModelRequests);
            Assert.Empty(await page.ListAsync("indexeddb"));

            StoreLoad r = await page.AcquireAsync(ModelPath, new { expectedSha256 = ModelSha256.ToUpperInvariant() });
            AssertLoaded(r, "stored");
            Assert.Equal(2, page.ModelRequests);

            // A cached copy with another checksum is not used; a download that does not match either leaves it alone.
            string other = string.Concat(Enumerable.Repeat("ab", 32));
            AssertFailed(await page.AcquireAsync(ModelPath, new { expectedSha256 = other }), "integrity", other);
            Assert.Equal(3, page.ModelRequests);
            AssertEntry(await page.ListAsync("indexeddb"), ModelUrl, "indexeddb");
            AssertLoaded(await page.AcquireAsync(ModelPath, new { expectedSha256 = ModelSha256 }), "hit");
            Assert.Equal(3, page.ModelRequests);

            AssertFailed(await page.AcquireAsync(ModelPath, new { expectedSha256 = "abc" }), "argument", "64 hexadecimal digits");
            AssertFailed(await page.AcquireAsync(ModelPath, new { cache = "localStorage" }), "argument", "indexeddb, cache, opfs, none");
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task QuotaExceeded_ModelStillLoadsFromMemory()
    {
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);
            ICDPSession cdp = await context.NewCDPSessionAsync(page.Page);
            await cdp.SendAsync("Storage.overrideQuotaForOrigin", new Dictionary<string, object> { ["origin"] = fx.BaseUrl, ["quotaSize"] = 262_144 });

            StoreLoad r = await page.LoadAsync(ModelPath, generate: true);
            Assert.True(r.Ok, r.ToString());
            // The sizes come from navigator.storage.estimate(), which does not reflect the overridden quota.
            Assert.StartsWith($"not-stored: quota exceeded (model {ModelBytes.Length} bytes", r.CacheStatus);
            Assert.Contains("of its quota of", r.CacheStatus);
            Assert.Contains(r.Warnings, w => w.Contains("quota") && w.Contains("indexeddb"));
            Assert.Contains(r.Progress, p => p.Message is { } m && m.Contains("quota"));
            Assert.Equal(Greedy8.Value, r.Text);

            foreach (string kind in new[] { "cache", "opfs" })
            {
                r = await page.AcquireAsync(ModelPath, new { cache = kind });
                Assert.True(r.Ok, r.ToString());
                Assert.StartsWith($"not-stored: quota exceeded (model {ModelBytes.Length} bytes", r.CacheStatus);
                Assert.Contains(r.Warnings, w => w.Contains("quota") && w.Contains(kind));
            }
            foreach (string kind in Kinds)
                Assert.Empty(await page.ListAsync(kind));
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task Budget_RefusedBeforeDownloadWhenTheSizeIsKnown_StoppedWhileStreamingWhenNot()
    {
        using var server = new StoreModelServer(ModelBytes);
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);

            // Content-Length over the budget: refused before reading any of the body.
            StoreLoad r = await page.LoadAsync(ModelPath, new { budgetBytes = SmallBudget });
            AssertFailed(r, "budget", $"{ModelBytes.Length} bytes", $"{SmallBudget} bytes", "quantization");
            Assert.Equal(1, page.ModelRequests);
            Assert.Empty(r.Downloads);

            // No Content-Length: stopped as soon as the streamed bytes pass the budget.
            r = await page.AcquireAsync(server.Origin + "/chunked/stories260K.gguf", new { budgetBytes = SmallBudget });
            AssertFailed(r, "budget", "stopped after", $"{SmallBudget} bytes");
            Assert.All(r.Downloads, p => Assert.True(p.Loaded <= SmallBudget));
            Assert.All(r.Downloads, p => Assert.Equal(0, p.Total));
            Assert.Empty(await page.ListAsync("indexeddb"));

            // A cached entry over the current budget: refused, without a request, and kept.
            AssertLoaded(await page.AcquireAsync(ModelPath), "stored");
            Assert.Equal(3, page.ModelRequests);
            r = await page.AcquireAsync(ModelPath, new { budgetBytes = SmallBudget });
            AssertFailed(r, "budget", "cached", $"{ModelBytes.Length} bytes", $"{SmallBudget} bytes");
            Assert.Equal(3, page.ModelRequests);
            Assert.Single(await page.ListAsync("indexeddb"));
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task CrossOriginWithoutContentLength_IsStoredUnderItsUrlAndLoadedFromCache()
    {
        using var server = new StoreModelServer(ModelBytes);
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);
            string url = server.Origin + "/chunked/stories260K.gguf";
            StoreLoad r = await page.LoadAsync(url);
            AssertLoaded(r, "stored");
            Assert.All(r.Downloads, p => Assert.Equal(0, p.Total));
            Assert.Equal(ModelBytes.Length, r.Downloads.Last().Loaded);
            AssertEntry(await page.ListAsync("indexeddb"), url, "indexeddb");

            AssertLoaded(await page.AcquireAsync(url), "hit");
            Assert.Equal(1, server.Requests("/chunked/stories260K.gguf"));
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [BrowserFact]
    public async Task FilesAndBuffersAreNotCached_CacheNoneDisablesTheCache()
    {
        IBrowserContext context = await NewContextAsync();
        try
        {
            StorePage page = await StorePage.OpenAsync(context, fx.BaseUrl);
            StoreLoad r = await page.LoadAsync(ModelPath, sourceKind: "file", generate: true);
            AssertLoaded(r, "not-stored: only URL sources are cached");
            Assert.Equal("local.gguf", r.Info.GetProperty("source").GetString());
            Assert.Equal(Greedy8.Value, r.Text);
            AssertLoaded(await page.AcquireAsync(ModelPath, sourceKind: "buffer"), "not-stored: only URL sources are cached");
            r = await page.AcquireAsync(ModelPath, new { budgetBytes = SmallBudget }, sourceKind: "file");
            AssertFailed(r, "budget", "local.gguf", $"{ModelBytes.Length} bytes", $"{SmallBudget} bytes");
            Assert.Empty(r.Downloads);

            AssertLoaded(await page.AcquireAsync(ModelPath, new { cache = "none" }), "disabled");
            AssertLoaded(await page.AcquireAsync(ModelPath, new { cache = "none" }), "disabled");
            Assert.Equal(5, page.ModelRequests);
            foreach (string kind in Kinds)
                Assert.Empty(await page.ListAsync(kind));
        }
        finally
        {
            await context.CloseAsync();
        }
    }
}
