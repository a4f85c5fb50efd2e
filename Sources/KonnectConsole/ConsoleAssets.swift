import KonnectScenario

/// The page around the live sections, its style sheet, its script and its icon: served by the
/// console itself, nothing fetched from anywhere else.
enum ConsoleAssets {
    /// The page, with the sections' first rendering inside so it shows the cluster before the event
    /// stream connects.
    static func page(directory: String, sections: [String: String]) -> String {
        func section(_ id: String) -> String {
            "<div id=\"\(id)\" class=\"live\">\(sections[id] ?? "")</div>"
        }
        return """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>konnect-sim console: \(TimelineChart.escape(directory))</title>
            <link rel="icon" href="/favicon.svg" type="image/svg+xml">
            <link rel="stylesheet" href="/console.css"><script src="/console.js" defer></script>
            </head><body>
            <header><h1>konnect-sim console</h1><code class="dir">\(TimelineChart.escape(directory))</code>
            <span id="connection" class="connection">connecting</span><span id="result" role="status"></span></header>
            <main>
            <section class="panel topology-panel"><h2>Topology</h2>\(section("topology"))
            \(TimelineChart.legend(markers: []))</section>
            <section class="panel"><h2>Calendar</h2>\(section("calendar"))
            <div class="controls"><button type="button" data-action="advance" data-by="1d">+1 day</button>
            <button type="button" data-action="advance" data-by="30d">+30 days</button>
            <input type="date" id="clock-date" aria-label="move the calendar to this date">
            <button type="button" data-action="set-clock">move to date</button></div></section>
            <section class="panel"><h2>Faults</h2>
            <div class="controls"><label>slow by <input type="number" id="latency-ms" value="300" min="1" max="600000"> ms</label>
            <label>drop <input type="number" id="drop-percent" value="25" min="1" max="100"> %</label>
            <button type="button" data-action="heal-all">heal every link</button></div>
            \(section("faults"))</section>
            <section class="panel wide"><h2>Geo isolation: organizations</h2>\(section("organizations"))</section>
            <section class="panel wide"><h2>Timeline</h2>\(TimelineChart.legend(markers: [.fault, .calendar, .lifecycle, .config]))\(section("timeline"))</section>
            </main></body></html>
            """
    }

    static let css = """
        *{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f5f6f8;font-size:14px}
        header{display:flex;gap:16px;align-items:baseline;padding:10px 20px;background:#263238;color:#fff;flex-wrap:wrap}
        header h1{font-size:18px;margin:0}header .dir{color:#cfd8dc;background:none}
        .connection{font-size:12px;padding:2px 8px;border-radius:10px;background:#78909c}
        .connection.ok{background:#2e7d32}.connection.lost{background:#c62828}
        #result{font-size:13px}#result.ok{color:#a5d6a7}#result.error{color:#ffab91}
        main{display:grid;grid-template-columns:minmax(0,3fr) minmax(340px,2fr);gap:14px;padding:14px 20px}
        .panel{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:10px 14px;overflow-x:auto}
        .topology-panel{grid-row:span 2}.wide{grid-column:1/-1}
        h2{font-size:15px;margin:2px 0 8px}h3{font-size:13px;margin:10px 0 4px}
        .controls{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin:6px 0}
        .controls input[type=number]{width:76px}
        button{font:inherit;font-size:12px;padding:2px 8px;margin:1px 2px;border:1px solid #90a4ae;border-radius:4px;background:#eceff1;cursor:pointer}
        button:hover:not(:disabled){background:#cfd8dc}button:disabled{opacity:.4;cursor:default}
        table{border-collapse:collapse;font-size:13px;margin:6px 0;width:100%}
        td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
        td.geo{font-size:12px;min-width:150px}td.geo.home{background:#e8f5e9}
        .org-active{color:#2e7d32}.org-inactive{color:#c62828}.org-deleting,.org-deleted{color:#6a1b9a}
        .muted{color:#78909c}.note{font-size:12px;color:#455a64;margin:2px 0 6px}
        .now{font-size:20px;font-weight:600;margin:4px 0}.due{margin:4px 0;padding-left:18px;font-size:13px}
        code{background:#f4f4f4;padding:1px 3px;font-size:12px}svg.topology,svg.timeline{max-width:100%;height:auto}
        """ + TimelineChart.css

    static let script = """
        'use strict';
        (() => {
          if (location.search) history.replaceState(null, '', '/');
          const connection = document.getElementById('connection');
          const result = document.getElementById('result');
          const rendered = new Map();
          function show(text, ok) { result.textContent = text; result.className = ok ? 'ok' : 'error'; }
          function apply(sections) {
            for (const [id, html] of Object.entries(sections)) {
              const element = document.getElementById(id);
              if (!element || rendered.get(id) === html) continue;
              element.innerHTML = html;
              rendered.set(id, html);
            }
          }
          function connect() {
            const source = new EventSource('/events');
            source.addEventListener('state', (event) => {
              const data = JSON.parse(event.data);
              apply(data.sections);
              document.body.dataset.version = String(data.version);
              connection.textContent = 'live';
              connection.className = 'connection ok';
            });
            source.addEventListener('error', () => {
              connection.className = 'connection lost';
              connection.textContent = source.readyState === EventSource.CLOSED
                ? 'disconnected: the console stopped or restarted; open the URL it printed'
                : 'reconnecting';
            });
          }
          document.addEventListener('click', async (event) => {
            const button = event.target.closest('button[data-action]');
            if (!button || button.disabled) return;
            const body = { action: button.dataset.action };
            for (const key of ['node', 'link', 'by']) if (button.dataset[key]) body[key] = button.dataset[key];
            if (body.action === 'slow') body.latency_ms = Number(document.getElementById('latency-ms').value);
            if (body.action === 'drop') body.percent = Number(document.getElementById('drop-percent').value);
            if (body.action === 'set-clock') body.date = document.getElementById('clock-date').value;
            button.disabled = true;
            show(body.action + '...', true);
            try {
              const response = await fetch('/actions', {
                method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
              });
              const text = await response.text();
              let answer = {};
              try { answer = JSON.parse(text); } catch (_) { answer = { detail: text }; }
              if (response.ok) show(answer.message, true);
              else show(response.status + ': ' + (answer.detail || text) + (answer.invalid_parameters
                ? ' (' + answer.invalid_parameters.map((p) => p.field + ' ' + p.reason).join('; ') + ')' : ''), false);
            } catch (error) {
              show('the console did not answer: ' + error, false);
            } finally {
              button.disabled = false;
            }
          });
          connect();
        })();
        """

    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="3" r="2.5" fill="#2e7d32"/><circle cx="3" cy="12" r="2.5" fill="#43a047"/><circle cx="13" cy="12" r="2.5" fill="#fb8c00"/><path d="M8 3L3 12M8 3l5 9" stroke="#546e7a"/></svg>
        """
}
