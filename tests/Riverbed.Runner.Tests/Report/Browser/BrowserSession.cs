using System.Text.Json;
using System.Text.Json.Nodes;

namespace Riverbed.Runner.Tests.Report.Browser;

/// <summary>A headless chromium with a DevTools connection, opening local pages in fresh tabs.</summary>
internal sealed class BrowserSession : IAsyncDisposable
{
    /// <summary>
    /// Runs before any page script: records Content-Security-Policy violations, so a test can tell that the page's own
    /// script and style were allowed and anything else was refused.
    /// </summary>
    private const string ViolationRecorder =
        "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', function (e) { window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI); });";

    private readonly ScratchFolder _profile;
    private readonly BrowserProcess _browser;
    private readonly CdpClient _client;

    private BrowserSession(ScratchFolder profile, BrowserProcess browser, CdpClient client)
    {
        _profile = profile;
        _browser = browser;
        _client = client;
    }

    public static async Task<BrowserSession> StartAsync()
    {
        var profile = new ScratchFolder("chromium-profile");
        BrowserProcess? browser = null;
        try
        {
            browser = Chromium.Start(profile.Path);
            return new BrowserSession(profile, browser, await CdpClient.ConnectAsync(browser.Endpoint));
        }
        catch
        {
            browser?.Dispose();
            profile.Dispose();
            throw;
        }
    }

    /// <summary>Opens a local file in a new tab of the given size, waits for its load event and a quiet moment, and returns the tab.</summary>
    public async Task<LoadedPage> OpenAsync(string file, int width = 1400, int height = 1800)
    {
        var target = await _client.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        var attached = await _client.SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target.GetProperty("targetId").GetString(), ["flatten"] = true });
        var session = attached.GetProperty("sessionId").GetString()!;
        foreach (var domain in (string[])["Page.enable", "Network.enable", "Runtime.enable"])
        {
            await _client.SendAsync(domain, sessionId: session);
        }
        await _client.SendAsync("Page.addScriptToEvaluateOnNewDocument", new JsonObject { ["source"] = ViolationRecorder }, session);
        await _client.SendAsync("Emulation.setDeviceMetricsOverride",
            new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false }, session);
        var url = new Uri(Path.GetFullPath(file)).AbsoluteUri;
        await _client.SendAsync("Page.navigate", new JsonObject { ["url"] = url }, session);
        await _client.WaitForAsync("Page.loadEventFired", session, TimeSpan.FromSeconds(60));
        // Anything a page starts after load (a timer, a late fetch) gets a moment to show up.
        await Task.Delay(1000);
        return new LoadedPage(_client, session, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        _browser.Dispose();
        _profile.Dispose();
    }
}

/// <summary>A tab with a page loaded: what it requested, and ways to look at it.</summary>
internal sealed class LoadedPage(CdpClient client, string session, string url)
{
    public string Url { get; } = url;

    /// <summary>Every URL the page asked for (documents, images, styles, scripts, fetches, websockets), in order.</summary>
    public IReadOnlyList<string> Requests => RequestEvents().Select(request => request.Url).ToList();

    /// <summary>
    /// Requests that left the page: anything but the file itself and inline data, unless the browser refused it under
    /// the page's Content-Security-Policy (then it reports the request and at once fails it as blocked, sending nothing).
    /// </summary>
    public IReadOnlyList<string> OutgoingRequests => NonLocal().Where(request => !BlockedIds().Contains(request.Id)).Select(request => request.Url).ToList();

    /// <summary>Requests the page's policy refused before anything was sent.</summary>
    public IReadOnlyList<string> BlockedRequests => NonLocal().Where(request => BlockedIds().Contains(request.Id)).Select(request => request.Url).ToList();

    private IEnumerable<(string Id, string Url)> NonLocal() => RequestEvents()
        .Where(request => !request.Url.StartsWith("file:", StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal)
            && !request.Url.StartsWith("blob:", StringComparison.Ordinal) && request.Url != "about:blank");

    private IEnumerable<(string Id, string Url)> RequestEvents() => client.Events
        .Where(e => e.SessionId == session && e.Method is "Network.requestWillBeSent" or "Network.webSocketCreated")
        .Select(e => (e.Params.GetProperty("requestId").GetString()!, e.Method == "Network.webSocketCreated"
            ? e.Params.GetProperty("url").GetString()!
            : e.Params.GetProperty("request").GetProperty("url").GetString()!));

    private HashSet<string> BlockedIds() => client.Events
        .Where(e => e.SessionId == session && e.Method == "Network.loadingFailed"
            && e.Params.TryGetProperty("blockedReason", out var reason) && reason.GetString() == "csp")
        .Select(e => e.Params.GetProperty("requestId").GetString()!)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>JavaScript dialogs the page opened (an injected alert() would show up here).</summary>
    public IReadOnlyList<string> Dialogs => client.Events
        .Where(e => e.SessionId == session && e.Method == "Page.javascriptDialogOpening")
        .Select(e => e.Params.GetProperty("message").GetString() ?? string.Empty)
        .ToList();

    /// <summary>Evaluates an expression in the page and returns its value (JSON-serializable results only).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await client.SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true }, session);
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException("page script failed: " + exception.GetRawText());
        }
        return result.GetProperty("result").GetProperty("value");
    }

    /// <summary>A PNG of the viewport, or of a region of the page (CSS pixels from the document's top left).</summary>
    public async Task<byte[]> ScreenshotAsync((double X, double Y, double Width, double Height)? clip = null)
    {
        var parameters = new JsonObject { ["format"] = "png" };
        if (clip is { } region)
        {
            parameters["clip"] = new JsonObject { ["x"] = region.X, ["y"] = region.Y, ["width"] = region.Width, ["height"] = region.Height, ["scale"] = 1 };
            parameters["captureBeyondViewport"] = true;
        }
        var shot = await client.SendAsync("Page.captureScreenshot", parameters, session);
        return Convert.FromBase64String(shot.GetProperty("data").GetString()!);
    }

    /// <summary>
    /// Drags the mouse with its left button from one viewport point to another in a few steps, as a user would: the
    /// browser turns these into the pointer events the page listens to.
    /// </summary>
    public async Task DragAsync(double fromX, double fromY, double toX, double toY, int steps = 5)
    {
        await client.SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = "mouseMoved", ["x"] = fromX, ["y"] = fromY }, session);
        await client.SendAsync("Input.dispatchMouseEvent",
            new JsonObject { ["type"] = "mousePressed", ["x"] = fromX, ["y"] = fromY, ["button"] = "left", ["buttons"] = 1, ["clickCount"] = 1 }, session);
        for (var i = 1; i <= steps; i++)
        {
            var x = fromX + ((toX - fromX) * i / steps);
            var y = fromY + ((toY - fromY) * i / steps);
            await client.SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = "mouseMoved", ["x"] = x, ["y"] = y, ["button"] = "left", ["buttons"] = 1 }, session);
        }
        await client.SendAsync("Input.dispatchMouseEvent",
            new JsonObject { ["type"] = "mouseReleased", ["x"] = toX, ["y"] = toY, ["button"] = "left", ["buttons"] = 0, ["clickCount"] = 1 }, session);
    }
}
