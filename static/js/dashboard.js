/* The dashboard's charts (Chart.js), drawn from the figures the page holds in #dashboard-data. */
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var RED = "#dc3545";
  var GOLD = "#d4a017";
  // One colour per request state, whichever states have requests: waiting in greys and blues,
  // late-prone work in orange, answered in greens, closed in dark grey.
  var STATE_COLOURS = {
    received: "#adb5bd", handled_directly: "#0dcaf0", transferred: "#6f42c1", assigned: "#0d6efd",
    in_progress: "#fd7e14", resolved: "#198754", explained: "#20c997", fed_back: "#75b798",
    return_visited: "#a3cfbb", closed: "#495057"
  };

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  draw("chart-weeks", {
    type: "line",
    data: {
      labels: data.weeks.labels,
      datasets: [{ label: data.weeks.label, data: data.weeks.values, borderColor: RED, backgroundColor: RED, cubicInterpolationMode: "monotone" }]
    },
    options: {
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    }
  });

  draw("chart-states", {
    type: "doughnut",
    data: { labels: data.states.labels, datasets: [{
      data: data.states.values,
      backgroundColor: data.states.codes.map(function (code) { return STATE_COLOURS[code] || "#6c757d"; })
    }] },
    options: { maintainAspectRatio: false, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }
  });

  draw("chart-children", {
    type: "bar",
    data: {
      labels: data.children.labels,
      datasets: data.children.datasets.map(function (dataset, index) {
        return { label: dataset.label, data: dataset.values, backgroundColor: index === 0 ? RED : GOLD };
      })
    },
    options: {
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, max: 100, ticks: { callback: function (value) { return value + "%"; } } } },
      plugins: { tooltip: { callbacks: { label: function (item) {
        return item.dataset.label + ": " + (item.raw === null ? "—" : item.raw + "%");
      } } } }
    }
  });
})();
