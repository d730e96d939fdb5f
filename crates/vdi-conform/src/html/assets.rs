//! The style sheet and script every page carries inline (the report works from `file://`
//! with no network). The script has no `<` or `&`, so that a page stays well-formed XML too
//! (the tests parse it).

/// The style sheet: screen and print. Verdicts differ in shape as well as colour.
pub const CSS: &str = r##"
:root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --skip: #6e7781; --info: #0969da;
  --error: #8250df; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg);
  margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h1 .mono { font-size: 19px; margin-right: 8px; } h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
a { color: #0550ae; }
code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 12px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 4px 0 10px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 12px; }
.meta dt { color: var(--muted); } .meta dd { margin: 0; word-break: break-word; }
.counts { display: flex; flex-wrap: wrap; gap: 8px 14px; margin: 10px 0 16px; padding: 0; list-style: none; }
.counts li { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
.counts b { font-size: 18px; margin-right: 4px; }
.verdict { font-weight: 600; white-space: nowrap; }
.verdict .shape { display: inline-block; width: 10px; height: 10px; margin-right: 5px; vertical-align: 0; }
.v-PASS { color: var(--pass); } .v-PASS .shape { background: var(--pass); border-radius: 50%; }
.v-FAIL { color: var(--fail); } .v-FAIL .shape { background: var(--fail); transform: rotate(45deg) scale(.85); }
.v-WARN { color: var(--warn); } .v-WARN .shape { background: var(--warn); clip-path: polygon(50% 0, 100% 100%, 0 100%); }
.v-SKIP { color: var(--skip); } .v-SKIP .shape { border: 2px solid var(--skip); border-radius: 50%; }
.v-INFO { color: var(--info); } .v-INFO .shape { background: var(--info); }
.v-ERROR { color: var(--error); } .v-ERROR .shape { background: var(--error);
  clip-path: polygon(32% 0, 68% 0, 68% 32%, 100% 32%, 100% 68%, 68% 68%, 68% 100%, 32% 100%, 32% 68%, 0 68%, 0 32%, 32% 32%); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.not-pass td:first-child { border-left: 3px solid var(--fail); }
.filters { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; margin: 8px 0;
  padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; }
.filters label { white-space: nowrap; }
.pairs td:first-child { width: 50%; }
.pairs .exp { color: var(--muted); }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; color: var(--muted); font-size: 12px; margin: 6px 0; }
.legend svg { vertical-align: middle; }
.note { color: var(--muted); font-size: 12px; }
svg.timeline { display: block; font: 11px "DejaVu Sans", system-ui, sans-serif; }
svg.timeline .lane-bg { fill: #ffffff; stroke: #eaeef2; }
svg.timeline .lane-bg.even { fill: #f8f9fa; }
svg.timeline .lane-name { text-anchor: middle; font-weight: 600; fill: var(--muted); }
svg.timeline .t { text-anchor: end; fill: var(--muted); font-size: 10px; }
svg.timeline .break line { stroke: #8c959f; stroke-dasharray: 2 3; }
svg.timeline .break text { fill: var(--muted); font-style: italic; }
svg.timeline .rules line { stroke-width: 1; stroke-dasharray: 5 3; }
svg.timeline .rule-abort { stroke: var(--fail); } svg.timeline .rule-fault { stroke: #bc4c00; }
svg.timeline .ev { cursor: pointer; }
svg.timeline .ev:focus { outline: none; }
svg.timeline .ev:hover .box, svg.timeline .ev:focus .box, svg.timeline .ev.pinned .box { stroke: var(--ink); stroke-width: 2; }
svg.timeline .label { fill: var(--ink); }
svg.timeline .box { fill: #ddf4ff; stroke: #54aeff; }
svg.timeline .k-read .box, svg.timeline .k-read-run .box { fill: #dafbe1; stroke: #4ac26b; }
svg.timeline .k-flush .box { fill: #fff8c5; stroke: #bf8700; stroke-width: 1.5; }
svg.timeline .k-complete .box { fill: #d2f4dc; stroke: #1a7f37; stroke-width: 1.5; }
svg.timeline .k-complete .inner { fill: none; stroke: #1a7f37; }
svg.timeline .stack { fill: #eef6ff; stroke: #54aeff; }
svg.timeline .k-read-run .stack { fill: #effbf1; stroke: #4ac26b; }
svg.timeline .error .box { stroke: var(--fail); stroke-dasharray: 3 2; stroke-width: 1.5; }
svg.timeline .pending .box { stroke-dasharray: 1 2; }
svg.timeline .struck .box { stroke: #bc4c00; stroke-width: 2.5; }
svg.timeline .sent { fill: #0969da; }
svg.timeline .track { stroke: #8c959f; stroke-width: .8; }
svg.timeline .taken { fill: var(--ink); }
svg.timeline .done { fill: var(--pass); } svg.timeline .done.none { fill: none; stroke: var(--muted); }
svg.timeline .cross { stroke: var(--fail); stroke-width: 2; fill: none; }
svg.timeline .k-event .mark { fill: #8c959f; }
svg.timeline .k-call-error .mark { fill: none; stroke: var(--muted); }
svg.timeline .k-call-error .label { fill: var(--muted); }
svg.timeline .k-abort .mark { fill: var(--fail); } svg.timeline .k-abort .label { fill: var(--fail); font-weight: 600; }
svg.timeline .k-fault .mark { fill: #fb8f44; stroke: #bc4c00; } svg.timeline .k-fault .label { fill: #bc4c00; font-weight: 600; }
svg.timeline .k-misuse .mark { fill: var(--fail); } svg.timeline .k-misuse .label { fill: var(--fail); font-weight: 600; }
svg.timeline .bang { fill: #fff; font-weight: 700; font-size: 9px; text-anchor: middle; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  .filters, .pin { display: none !important; }
  th { position: static; }
  tr, .pairs tr, pre { break-inside: avoid; }
  .scroll { overflow: visible; border: none; }
  svg.timeline { max-width: 100%; height: auto; }
  a { color: inherit; text-decoration: none; }
}
"##;

/// The script: the index's filters, and pinning a timeline event's record. Without it every
/// row shows and the tooltips still carry the records.
pub const JS: &str = r##"
(function () {
  var body = document.body;
  window.addEventListener("error", function (e) {
    body.setAttribute("data-errors", String(e.message));
  });
  var form = document.getElementById("filters");
  if (form) {
    form.hidden = false;
    var apply = function () {
      var shown = {};
      form.querySelectorAll("input[name=verdict]").forEach(function (box) {
        shown[box.value] = box.checked;
      });
      var area = form.querySelector("select[name=area]").value;
      var count = 0;
      document.querySelectorAll("#cases tbody tr").forEach(function (row) {
        var keep = shown[row.getAttribute("data-verdict")] === true;
        if (keep) {
          keep = area === "" || row.getAttribute("data-area") === area;
        }
        row.hidden = !keep;
        if (keep) {
          count += 1;
        }
      });
      document.getElementById("shown").textContent = count + " shown";
    };
    form.addEventListener("change", apply);
    apply();
  }
  document.querySelectorAll("svg.timeline").forEach(function (svg) {
    var out = document.getElementById("record-" + svg.id.split("-")[1]);
    var pin = function (g) {
      var before = svg.querySelector(".pinned");
      if (before) {
        before.classList.remove("pinned");
      }
      g.classList.add("pinned");
      out.textContent = g.querySelector("title").textContent;
    };
    svg.querySelectorAll("g.ev").forEach(function (g) {
      g.addEventListener("click", function () {
        pin(g);
      });
      g.addEventListener("keydown", function (e) {
        if (e.key === "Enter") {
          pin(g);
        }
      });
    });
  });
  body.setAttribute("data-ready", "1");
})();
"##;
