/* Console enhancements: charts (ECharts, served locally) drawn from the figures the page already has.
   Everything here is optional: without JavaScript the tables carry the same numbers and links. */
(function () {
  "use strict";
  function charts() {
    var node = document.getElementById("chart-data");
    if (!node || !window.echarts) { return; }
    var data;
    try { data = JSON.parse(node.textContent); } catch (e) { return; }
    var colours = { red: "#c62828", orange: "#e67700", yellow: "#b58900" };
    var all = [];
    function make(id, option, onClick) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var c = window.echarts.init(el, null, { renderer: "svg" });
      c.setOption(option);
      if (onClick) { c.on("click", onClick); }
      all.push(c);
    }
    make("chart-severity", {
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["40%", "70%"], label: { formatter: "{b}: {c}" },
        data: data.severity.map(function (d) { return { name: d.name, value: d.value, url: d.url,
          itemStyle: { color: colours[d.key] } }; }) }]
    }, function (p) { if (p.data && p.data.url) { location.href = p.data.url; } });
    make("chart-area", {
      tooltip: { trigger: "axis" }, grid: { left: 40, right: 10, top: 10, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: data.area.map(function (d) { return d.name; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", itemStyle: { color: "#0b5cad" },
        data: data.area.map(function (d) { return { value: d.value, url: d.url }; }) }]
    }, function (p) { if (p.data && p.data.url) { location.href = p.data.url; } });
    make("chart-trend", {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 40, right: 10, top: 30, bottom: 30, containLabel: true },
      xAxis: { type: "category", data: data.trend.months },
      yAxis: { type: "value", minInterval: 1 },
      series: data.trend.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "all", itemStyle: { color: colours[s.key] }, data: s.data };
      })
    }, function (p) {
      var urls = data.trend.urls[p.seriesIndex];
      if (urls && urls[p.dataIndex]) { location.href = urls[p.dataIndex]; }
    });
    window.addEventListener("resize", function () { all.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", charts); } else { charts(); }
})();
