// Renders GET /sre/dashboard and reloads it every refresh_seconds. Every figure shown carries
// data-figure (its path in the document) and data-value (the JSON value), so a test can check
// the page against the document. No inline script or style: the page's CSP forbids both.
"use strict";

(function () {
  var TOKEN_KEY = "sre-operator-token";
  var charts = [];
  var timer = null;
  var lastDocument = null;
  // What an SLI or budget figure shows when its window had no requests: unknown, never 100%.
  var NO_REQUESTS = "no requests yet";

  // -- small DOM helpers -------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) { return; }
      if (key === "text") { node.textContent = String(value); } else { node.setAttribute(key, String(value)); }
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function pct(value, digits) {
    return value === null || value === undefined ? "no data" : (value * 100).toFixed(digits === undefined ? 3 : digits) + "%";
  }

  function num(value, digits) {
    if (value === null || value === undefined) { return "no data"; }
    if (typeof value !== "number") { return String(value); }
    return Number.isInteger(value) ? String(value) : value.toFixed(digits === undefined ? 2 : digits);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "no data"; }
    if (seconds < 120) { return seconds.toFixed(0) + " s"; }
    if (seconds < 7200) { return (seconds / 60).toFixed(1) + " min"; }
    if (seconds < 172800) { return (seconds / 3600).toFixed(1) + " h"; }
    return (seconds / 86400).toFixed(1) + " d";
  }

  // A figure: its text, and the JSON value and path it came from.
  function figure(path, value, text) {
    return el("span", {"data-figure": path, "data-value": JSON.stringify(value === undefined ? null : value),
      text: text});
  }

  function badge(state) {
    return el("span", {"class": "status status-" + String(state).replace(/[^a-z-]/gi, ""), text: state});
  }

  function notice(text) { return el("p", {"class": "notice", text: text}); }

  function sectionBody(id) {
    var body = document.querySelector("#" + id + " .body");
    body.textContent = "";
    return body;
  }

  // A section that is not "ok": what it is instead, never empty figures.
  function stateNotice(body, section, emptyText) {
    if (section.status === "failed") {
      body.appendChild(el("p", {"class": "error", "data-section-state": "failed"}, [
        "Could not be read: ", section.error || "unknown error"]));
      return true;
    }
    if (section.status === "unavailable") {
      body.appendChild(el("p", {"class": "notice", "data-section-state": "unavailable"}, [
        "Not available: ", section.reason || "not part of this deployment"]));
      return true;
    }
    if (section.status === "empty") {
      body.appendChild(el("p", {"class": "notice", "data-section-state": "empty", text: emptyText}));
      return true;
    }
    return false;
  }

  function table(headers, rows) {
    var head = el("tr", {}, headers.map(function (h) {
      return el("th", {scope: "col", "class": h.num ? "num" : null, text: h.label || h});
    }));
    return el("div", {"class": "table-wrap"}, [el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)])]);
  }

  function shortTime(at) { return at ? at.slice(5, 16).replace("T", " ") : ""; }

  // -- charts ------------------------------------------------------------------------------------
  function chartCard(title, id, description) {
    var canvas = el("canvas", {id: id, role: "img", "aria-label": description});
    return {card: el("div", {"class": "chart-card"}, [el("h4", {text: title}), el("div", {"class": "chart"}, [canvas])]),
      canvas: canvas};
  }

  function lineChart(canvas, labels, series, yTitle) {
    var colors = ["#0969da", "#cf222e", "#9a6700", "#8250df", "#1a7f37", "#57606a"];
    var chart = new window.Chart(canvas, {
      type: "line",
      data: {labels: labels, datasets: series.map(function (item, index) {
        return {label: item.label, data: item.data, borderColor: colors[index % colors.length],
          backgroundColor: colors[index % colors.length], borderWidth: item.dashed ? 1 : 2,
          borderDash: item.dashed ? [6, 4] : [], pointRadius: item.dashed ? 0 : 1.5, spanGaps: false, tension: 0};
      })},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
        scales: {y: {title: {display: true, text: yTitle}}, x: {ticks: {maxTicksLimit: 6, maxRotation: 0}}},
        plugins: {legend: {labels: {boxWidth: 12}}}}
    });
    canvas.setAttribute("data-points", String(labels.length));
    charts.push(chart);
    return chart;
  }

  function flat(value, count) {
    var out = [];
    for (var i = 0; i < count; i += 1) { out.push(value); }
    return out;
  }

  // -- sections ----------------------------------------------------------------------------------
  function renderHealth(doc) {
    var body = sectionBody("health");
    var health = doc.health;
    body.appendChild(el("p", {}, ["Overall: ", figure("health.status", health.status, ""), badge(health.status)]));
    body.appendChild(el("ul", {"class": "plain"}, health.components.map(function (c, index) {
      return el("li", {}, [badge(c.status), " ", el("strong", {text: c.name.replace(/_/g, " ")}), ": ",
        figure("health.components." + index + ".detail", c.detail, c.detail)]);
    })));
  }

  function renderSlos(doc) {
    var body = sectionBody("slos");
    var section = doc.slos;
    if (section.status === "failed" || section.status === "unavailable") { stateNotice(body, section); return; }
    if (section.status === "empty") {
      body.appendChild(notice("No SLO has been evaluated yet: the figures below appear after the evaluator's first run."));
    }
    var grid = el("div", {"class": "grid"});
    section.items.forEach(function (slo, index) {
      var base = "slos.items." + index;
      var card = el("article", {"class": "card", "data-slo": slo.name}, [
        el("h3", {}, [slo.display_name + " ", badge(slo.evaluated ? slo.budget.state : "not evaluated")]),
        el("p", {}, ["Target ", figure(base + ".target", slo.target, pct(slo.target, 2)), " over ",
          figure(base + ".period", slo.period, slo.period), ". Releases freeze when the budget is ",
          figure(base + ".budget_policy.freeze_releases_when", slo.budget_policy.freeze_releases_when,
            slo.budget_policy.freeze_releases_when), "."])
      ]);
      if (!slo.evaluated) {
        card.appendChild(notice("Not evaluated yet: no data."));
        grid.appendChild(card);
        return;
      }
      var period = slo.windows[slo.period] || {};
      var budget = slo.budget;
      card.appendChild(el("dl", {"class": "figures"}, [
        el("dt", {text: "SLI (" + slo.period + ")"}), el("dd", {}, [figure(base + ".windows." + slo.period + ".sli", period.sli,
          period.sli === null ? NO_REQUESTS : pct(period.sli))]),
        el("dt", {text: "Budget remaining"}), el("dd", {}, [figure(base + ".budget.remaining_ratio", budget.remaining_ratio,
          budget.remaining_ratio === null ? NO_REQUESTS : pct(budget.remaining_ratio, 1))]),
        el("dt", {text: "Budget state"}), el("dd", {}, [figure(base + ".budget.state", budget.state, budget.state)]),
        el("dt", {text: "Freezes releases"}), el("dd", {}, [figure(base + ".budget.freezes_releases", budget.freezes_releases, budget.freezes_releases ? "yes" : "no")]),
        el("dt", {text: "Evaluated at"}), el("dd", {}, [figure(base + ".evaluated_at", slo.evaluated_at, slo.evaluated_at)])
      ]));
      if (budget.unknown_reason) { card.appendChild(notice(budget.unknown_reason)); }
      var windowNames = Object.keys(slo.windows).sort(function (a, b) { return slo.windows[a].minutes - slo.windows[b].minutes; });
      card.appendChild(table(["Window", {label: "SLI", num: true}, {label: "Burn rate", num: true}, {label: "Valid", num: true}],
        windowNames.map(function (name) {
          var w = slo.windows[name];
          var path = base + ".windows." + name;
          return el("tr", {}, [el("td", {text: name}), el("td", {"class": "num"}, [figure(path + ".sli", w.sli, w.valid === 0 ? "no requests" : pct(w.sli))]),
            el("td", {"class": "num"}, [figure(path + ".burn_rate", w.burn_rate, num(w.burn_rate))]),
            el("td", {"class": "num"}, [figure(path + ".valid", w.valid, num(w.valid))])]);
        })));
      card.appendChild(table(["Alert tier", "Windows", {label: "Threshold", num: true}, "State"],
        slo.tiers.map(function (tier, t) {
          return el("tr", {}, [el("td", {text: tier.name + " (" + tier.severity + ")"}),
            el("td", {text: tier.long_window + " + " + tier.short_window}),
            el("td", {"class": "num"}, [figure(base + ".tiers." + t + ".burn_rate", tier.burn_rate, num(tier.burn_rate) + "×")]),
            el("td", {}, [figure(base + ".tiers." + t + ".state", tier.state, ""), badge(tier.state)])]);
        })));
      var burn = chartCard("Error budget burn-down (" + slo.period + ")", "chart-burndown-" + slo.name,
        "Remaining error budget of " + slo.display_name + " over its period");
      var sli = chartCard("SLI, last " + section.history_hours + " h", "chart-sli-" + slo.name,
        "Hourly SLI of " + slo.display_name + " against its target");
      var rate = chartCard("Burn rate (1 h), last " + section.history_hours + " h", "chart-burn-" + slo.name,
        "One-hour burn rate of " + slo.display_name + " with the alert thresholds");
      card.appendChild(burn.card);
      card.appendChild(sli.card);
      card.appendChild(rate.card);
      grid.appendChild(card);
      var history = slo.history;
      if (!slo.burn_down.length) {
        burn.card.appendChild(notice("No history points yet."));
      }
      if (!history.length) {
        sli.card.appendChild(notice("No history points yet."));
        rate.card.appendChild(notice("No history points yet."));
      }
      var downLabels = slo.burn_down.map(function (p) { return shortTime(p.at); });
      lineChart(burn.canvas, downLabels, [
        {label: "budget remaining %", data: slo.burn_down.map(function (p) { return p.budget_remaining_ratio === null ? null : p.budget_remaining_ratio * 100; })},
        {label: "warning below", data: flat(slo.budget_policy.warning_below * 100, downLabels.length), dashed: true},
        {label: "exhausted", data: flat(0, downLabels.length), dashed: true}], "%");
      var labels = history.map(function (p) { return shortTime(p.at); });
      lineChart(sli.canvas, labels, [
        {label: "SLI %", data: history.map(function (p) { return p.sli === null ? null : p.sli * 100; })},
        {label: "target", data: flat(slo.target * 100, labels.length), dashed: true}], "%");
      lineChart(rate.canvas, labels, [{label: "burn rate 1h", data: history.map(function (p) { return p.burn_rate_1h; })}]
        .concat(slo.alert_tiers.map(function (tier) {
          return {label: tier.name + " " + num(tier.burn_rate) + "×", data: flat(tier.burn_rate, labels.length), dashed: true};
        })), "× budget");
    });
    body.appendChild(grid);
  }

  function renderLatency(doc) {
    var body = sectionBody("latency");
    var section = doc.latency;
    if (stateNotice(body, section, "No request has been measured yet: the evaluator has not stored service figures.")) { return; }
    var name = section.windows["1h"] ? "1h" : Object.keys(section.windows)[0];
    var window_ = section.windows[name];
    var base = "latency.windows." + name;
    body.appendChild(el("p", {}, ["Window " + name + ": ",
      figure(base + ".valid_requests", window_.valid_requests, num(window_.valid_requests)), " valid requests, error rate ",
      figure(base + ".error_rate", window_.error_rate, pct(window_.error_rate, 2)),
      ". The latency SLO counts requests under ", figure("latency.slo_threshold_ms", section.slo_threshold_ms,
        section.slo_threshold_ms === null ? "no threshold" : section.slo_threshold_ms + " ms"), "."]));
    var labels = window_.bands.map(function (band, index) {
      var low = index ? window_.bands[index - 1].le_ms : 0;
      return band.le_ms === null ? "≥ " + low + " ms" : low + "–" + band.le_ms + " ms";
    });
    var card = chartCard("Requests per latency band", "chart-latency", "Requests per latency band in the last " + name);
    body.appendChild(el("div", {"class": "card"}, [card.card]));
    var chart = new window.Chart(card.canvas, {
      type: "bar",
      data: {labels: labels, datasets: [{label: "requests", data: window_.bands.map(function (b) { return b.count; }),
        backgroundColor: window_.bands.map(function (b) {
          return section.slo_threshold_ms !== null && (b.le_ms === null || b.le_ms > section.slo_threshold_ms) ? "#cf222e" : "#0969da";
        })}]},
      options: {animation: false, responsive: true, maintainAspectRatio: false, plugins: {legend: {display: false}}}
    });
    card.canvas.setAttribute("data-points", String(labels.length));
    charts.push(chart);
    body.appendChild(table(["Band", {label: "Requests", num: true}, {label: "Cumulative", num: true}],
      window_.bands.map(function (band, index) {
        return el("tr", {}, [el("td", {text: labels[index]}),
          el("td", {"class": "num"}, [figure(base + ".bands." + index + ".count", band.count, num(band.count))]),
          el("td", {"class": "num"}, [figure(base + ".bands." + index + ".cumulative_ratio", band.cumulative_ratio, pct(band.cumulative_ratio, 1))])]);
      })));
  }

  function renderAlerts(doc) {
    var body = sectionBody("alerts");
    var section = doc.alerts;
    if (stateNotice(body, section, "No open alert.")) { return; }
    body.appendChild(table(["SLO", "Tier", "Opened", {label: "Long / short burn", num: true}, "Runbook"],
      section.open.map(function (alert, index) {
        var base = "alerts.open." + index;
        return el("tr", {}, [el("td", {text: alert.slo_display_name}), el("td", {text: alert.tier + " (" + alert.severity + ")"}),
          el("td", {}, [figure(base + ".opened_at", alert.opened_at, alert.opened_at)]),
          el("td", {"class": "num"}, [figure(base + ".long_burn_rate", alert.long_burn_rate, num(alert.long_burn_rate)), " / ",
            figure(base + ".short_burn_rate", alert.short_burn_rate, num(alert.short_burn_rate))]),
          el("td", {}, [el("a", {href: alert.runbook_url, text: alert.runbook})])]);
      })));
  }

  function renderCapacity(doc) {
    var body = sectionBody("capacity");
    var section = doc.capacity;
    if (stateNotice(body, section, "No capacity plan yet: " + (section.note || "no utilization collected yet") + ".")) { return; }
    var summary = section.summary;
    var asOf = computedNote("capacity", section);
    if (asOf) { body.appendChild(asOf); }
    body.appendChild(el("p", {}, ["Collected ", figure("capacity.summary.collected_at", summary.collected_at, summary.collected_at),
      " over ", figure("capacity.summary.days_of_data", summary.days_of_data, num(summary.days_of_data)), " days; ",
      figure("capacity.summary.recommendations", summary.recommendations, num(summary.recommendations)), " recommendations."]));
    body.appendChild(table(["Series", "Model", {label: "Latest peak", num: true}, {label: "Slope / day", num: true}, "Nearest limit", {label: "Days to it", num: true}],
      section.items.map(function (item, index) {
        var base = "capacity.items." + index;
        return el("tr", {}, [el("td", {text: item.series}),
          el("td", {text: item.model || ("no trend: " + (item.reason || "too little history"))}),
          el("td", {"class": "num"}, [figure(base + ".latest_peak", item.latest_peak, num(item.latest_peak))]),
          el("td", {"class": "num"}, [figure(base + ".slope_per_day", item.slope_per_day, num(item.slope_per_day))]),
          el("td", {text: item.nearest_limit || "none within the horizon"}),
          el("td", {"class": "num"}, [figure(base + ".days_to_limit", item.days_to_limit, num(item.days_to_limit))])]);
      })));
    var grid = el("div", {"class": "grid"});
    section.items.filter(function (item) { return item.next_7_days && item.next_7_days.length; }).forEach(function (item) {
      var card = chartCard("Forecast: " + item.series, "chart-capacity-" + item.series.replace(/[^a-z0-9_-]/gi, "-"),
        "Seven-day forecast of " + item.series + " with its interval");
      grid.appendChild(el("div", {"class": "card"}, [card.card]));
      var labels = item.next_7_days.map(function (p) { return "+" + p.day + " d"; });
      lineChart(card.canvas, labels, [
        {label: "forecast", data: item.next_7_days.map(function (p) { return p.value; })},
        {label: "low", data: item.next_7_days.map(function (p) { return p.low; }), dashed: true},
        {label: "high", data: item.next_7_days.map(function (p) { return p.high; }), dashed: true}], "daily peak");
    });
    body.appendChild(grid);
    if (section.recommendations.length) {
      body.appendChild(el("h3", {text: "Recommendations"}));
      body.appendChild(el("ul", {}, section.recommendations.map(function (r) {
        return el("li", {}, [el("strong", {text: r.resource + ": " + r.action}), " — " + r.reason]);
      })));
    }
  }

  // Sections read through a short-lived copy say how old it is.
  function computedNote(id, section) {
    if (section.computed_at === undefined || section.computed_at === null) { return null; }
    return el("p", {"class": "notice"}, ["As of ", figure(id + ".computed_at", section.computed_at, section.computed_at),
      " (", figure(id + ".age_seconds", section.age_seconds, duration(section.age_seconds)), " old; read again after ",
      figure(id + ".max_age_seconds", section.max_age_seconds, duration(section.max_age_seconds)), ")."]);
  }

  function renderTickets(doc) {
    var body = sectionBody("tickets");
    var section = doc.tickets;
    if (stateNotice(body, section, "No open ticket, and none opened in the last " + (section.window_days || "?") + " days.")) { return; }
    var summary = section.summary;
    body.appendChild(el("dl", {"class": "figures"}, [
      el("dt", {text: "Open"}), el("dd", {}, [figure("tickets.summary.open", summary.open, num(summary.open))]),
      el("dt", {text: "Opened (" + section.window_days + " d)"}), el("dd", {}, [figure("tickets.summary.opened_in_window", summary.opened_in_window, num(summary.opened_in_window))]),
      el("dt", {text: "Linked to an incident"}), el("dd", {}, [figure("tickets.summary.linked_to_incidents", summary.linked_to_incidents, num(summary.linked_to_incidents))])
    ]));
    body.appendChild(el("h3", {text: "Open"}));
    if (!section.open.length) {
      body.appendChild(notice("No open ticket."));
    } else {
      body.appendChild(table(["SLO", "Title", "Opened", {label: "Long / short burn", num: true}, "Incident", "Runbook"],
        section.open.map(function (ticket, index) {
          var base = "tickets.open." + index;
          var details = ticket.details || {};
          return el("tr", {"data-ticket-row": ticket.id}, [el("td", {text: ticket.slo + " (" + ticket.tier + ")"}),
            el("td", {}, [figure(base + ".title", ticket.title, ticket.title)]),
            el("td", {}, [figure(base + ".opened_at", ticket.opened_at, ticket.opened_at)]),
            el("td", {"class": "num"}, [figure(base + ".details.long_burn_rate", details.long_burn_rate, num(details.long_burn_rate)), " / ",
              figure(base + ".details.short_burn_rate", details.short_burn_rate, num(details.short_burn_rate))]),
            el("td", {}, [figure(base + ".incident_id", ticket.incident_id, ticket.incident_id || "—")]),
            el("td", {text: ticket.runbook})]);
        })));
    }
    body.appendChild(el("h3", {text: "Opened in the last " + section.window_days + " days"}));
    if (!section.recent.length) { body.appendChild(notice("None.")); return; }
    body.appendChild(table(["Title", "Status", "Opened", "Resolved", "Resolution"], section.recent.map(function (ticket, index) {
      var base = "tickets.recent." + index;
      return el("tr", {}, [el("td", {text: ticket.title}),
        el("td", {}, [figure(base + ".status", ticket.status, ""), badge(ticket.status)]),
        el("td", {}, [figure(base + ".opened_at", ticket.opened_at, ticket.opened_at)]),
        el("td", {}, [figure(base + ".resolved_at", ticket.resolved_at, ticket.resolved_at || "—")]),
        el("td", {text: ticket.resolution || "—"})]);
    })));
  }

  function metText(met) { return met === true ? "met" : (met === false ? "not met" : "not measured"); }

  function experimentCard(experiment, base) {
    var card = el("article", {"class": "card", "data-experiment": experiment.id}, [
      el("h3", {}, [experiment.title + " ", figure(base + ".status", experiment.status, ""), badge(experiment.status)]),
      el("p", {}, ["Verdict: ", figure(base + ".reason", experiment.reason, experiment.reason || (experiment.status === "running" ? "running" : "none recorded"))]),
      el("dl", {"class": "figures"}, [
        el("dt", {text: "Targets"}), el("dd", {}, [figure(base + ".targets", experiment.targets, experiment.targets.join(", "))]),
        el("dt", {text: "Started"}), el("dd", {}, [figure(base + ".started_at", experiment.started_at, experiment.started_at), " by " + experiment.started_by]),
        el("dt", {text: "Ended"}), el("dd", {}, [figure(base + ".ended_at", experiment.ended_at, experiment.ended_at || "not yet")]),
        el("dt", {text: "Steady state before"}), el("dd", {}, [figure(base + ".steady_state_before_met", experiment.steady_state_before_met, metText(experiment.steady_state_before_met))]),
        el("dt", {text: "Steady state after"}), el("dd", {}, [figure(base + ".steady_state_after_met", experiment.steady_state_after_met, metText(experiment.steady_state_after_met))]),
        el("dt", {text: "Expected responses met"}), el("dd", {}, [figure(base + ".expected_met", experiment.expected_met, num(experiment.expected_met)), " of ",
          figure(base + ".expected_total", experiment.expected_total, num(experiment.expected_total))]),
        el("dt", {text: "Stop condition"}), el("dd", {text: experiment.stop_condition ? (experiment.stop_condition.name || JSON.stringify(experiment.stop_condition)) : "none fired"})
      ])
    ]);
    if (experiment.expected_responses.length) {
      card.appendChild(table(["Expected response", "Result", {label: "Seconds", num: true}, {label: "Within", num: true}],
        experiment.expected_responses.map(function (response, index) {
          var path = base + ".expected_responses." + index;
          return el("tr", {}, [el("td", {text: response.name}),
            el("td", {}, [figure(path + ".met", response.met, metText(response.met))]),
            el("td", {"class": "num"}, [figure(path + ".seconds", response.seconds, num(response.seconds, 1))]),
            el("td", {"class": "num", text: num(response.within_seconds)})]);
        })));
    }
    var budget = experiment.budget || {};
    Object.keys(budget).forEach(function (slo) {
      card.appendChild(el("p", {}, ["Budget of " + slo + " consumed: ",
        figure(base + ".budget." + slo + ".consumed_ratio", budget[slo].consumed_ratio, pct(budget[slo].consumed_ratio, 2))]));
    });
    if (experiment.incidents.length) {
      card.appendChild(el("ul", {"class": "plain"}, experiment.incidents.map(function (incident) {
        return el("li", {text: "Incident " + incident.id + " (" + incident.severity + ", " + incident.status + (incident.paged ? ", paged" : "") + "): " + incident.title});
      })));
    }
    card.appendChild(el("details", {}, [el("summary", {text: "Journal (" + experiment.timeline.length + " events)"}),
      el("ol", {"class": "plain"}, experiment.timeline.map(function (event) {
        return el("li", {text: event.at + " " + event.event + (event.by ? " by " + event.by : "")});
      }))]));
    return card;
  }

  function renderExperiments(doc) {
    var body = sectionBody("experiments");
    var section = doc.experiments;
    if (stateNotice(body, section, "No chaos experiment has run yet.")) { return; }
    body.appendChild(el("p", {}, [figure("experiments.summary.running", section.summary.running, num(section.summary.running)),
      " running; the newest ", figure("experiments.summary.shown", section.summary.shown, num(section.summary.shown)), " shown."]));
    [["running", "Running"], ["recent", "Recent"]].forEach(function (part) {
      var items = section[part[0]];
      body.appendChild(el("h3", {text: part[1]}));
      if (!items.length) { body.appendChild(notice(part[0] === "running" ? "No experiment is running." : "None finished yet.")); return; }
      body.appendChild(el("div", {"class": "grid"}, items.map(function (experiment, index) {
        return experimentCard(experiment, "experiments." + part[0] + "." + index);
      })));
    });
  }

  function renderIncidents(doc) {
    var body = sectionBody("incidents");
    var section = doc.incidents;
    if (section.status === "failed") { stateNotice(body, section); return; }
    var stats = section.stats.all;
    body.appendChild(el("dl", {"class": "figures"}, [
      el("dt", {text: "Incidents (" + section.window_days + " d)"}), el("dd", {}, [figure("incidents.stats.all.incidents", stats.incidents, num(stats.incidents))]),
      el("dt", {text: "MTTA"}), el("dd", {}, [figure("incidents.stats.all.mtta_seconds", stats.mtta_seconds, duration(stats.mtta_seconds))]),
      el("dt", {text: "MTTR"}), el("dd", {}, [figure("incidents.stats.all.mttr_seconds", stats.mttr_seconds, duration(stats.mttr_seconds))]),
      el("dt", {text: "MTBF"}), el("dd", {}, [figure("incidents.stats.all.mtbf_seconds", stats.mtbf_seconds, duration(stats.mtbf_seconds))])
    ]));
    body.appendChild(el("h3", {text: "Open"}));
    if (!section.open.length) {
      body.appendChild(notice("No open incident."));
    } else {
      body.appendChild(table(["Severity", "Title", "Status", "Opened", "Acknowledged by", "Action"],
        section.open.map(function (incident, index) {
          var base = "incidents.open." + index;
          var action = incident.status === "triggered"
            ? el("button", {type: "button", "class": "ack", "data-incident": incident.id, text: "Acknowledge"})
            : el("span", {"class": "notice", text: "—"});
          return el("tr", {"data-incident-row": incident.id}, [el("td", {text: incident.severity}),
            el("td", {text: incident.title}),
            el("td", {}, [figure(base + ".status", incident.status, ""), badge(incident.status)]),
            el("td", {}, [figure(base + ".opened_at", incident.opened_at, incident.opened_at)]),
            el("td", {}, [figure(base + ".acknowledged_by", incident.acknowledged_by, incident.acknowledged_by || "—")]),
            el("td", {}, [action])]);
        })));
    }
    // The outcome of the last acknowledge outlives the re-render that the acknowledge itself triggers.
    body.appendChild(el("p", {id: "ack-result", "aria-live": "polite", "class": ackOutcome.className,
      text: ackOutcome.text}));
    body.appendChild(el("h3", {text: "Recent"}));
    if (!section.recent.length) {
      body.appendChild(notice("No incident in the last " + section.window_days + " days."));
      return;
    }
    body.appendChild(table(["Severity", "Title", "Status", "Opened", "Resolved"], section.recent.map(function (incident) {
      return el("tr", {}, [el("td", {text: incident.severity}), el("td", {text: incident.title}),
        el("td", {}, [badge(incident.status)]), el("td", {text: incident.opened_at}), el("td", {text: incident.resolved_at || "—"})]);
    })));
  }

  function renderBreakers(doc) {
    var body = sectionBody("breakers");
    var section = doc.breakers;
    if (stateNotice(body, section, "No circuit breaker is configured.")) { return; }
    var grid = el("div", {"class": "grid"});
    section.items.forEach(function (breaker, index) {
      var base = "breakers.items." + index;
      var transitions = breaker.recent_transitions || [];
      grid.appendChild(el("article", {"class": "card", "data-breaker": breaker.name}, [
        el("h3", {}, [breaker.name + " ", figure(base + ".state", breaker.state, ""), badge(breaker.state)]),
        el("dl", {"class": "figures"}, [
          el("dt", {text: "Failures"}), el("dd", {}, [figure(base + ".failure_count", breaker.failure_count, num(breaker.failure_count))]),
          el("dt", {text: "Opened at"}), el("dd", {}, [figure(base + ".opened_at", breaker.opened_at, breaker.opened_at || "—")]),
          el("dt", {text: "Forced open"}), el("dd", {text: breaker.forced_open ? "yes" : "no"})]),
        transitions.length ? el("ul", {"class": "plain"}, transitions.slice(0, 5).map(function (t) {
          return el("li", {text: (t.at || "") + ": " + (t.from || "?") + " → " + (t.to || "?") + (t.reason ? " (" + t.reason + ")" : "")});
        })) : notice("No transition recorded.")
      ]));
    });
    body.appendChild(grid);
  }

  function renderBusiness(doc) {
    var body = sectionBody("business");
    var section = doc.business;
    if (stateNotice(body, section, "No API call has been counted yet: no registration or route figure to show.")) { return; }
    var windows = section.windows;
    var note = computedNote("business", section);
    if (note) { body.appendChild(note); }
    body.appendChild(el("dl", {"class": "figures"}, windows.reduce(function (acc, name) {
      acc.push(el("dt", {text: "Users registered, " + name}));
      acc.push(el("dd", {}, [figure("business.users_registered." + name, section.users_registered[name], num(section.users_registered[name]))]));
      return acc;
    }, [])));
    body.appendChild(table(["Route"].concat(windows.map(function (w) { return {label: w, num: true}; })),
      section.api_calls.map(function (row, index) {
        return el("tr", {}, [el("td", {text: row.route})].concat(windows.map(function (w) {
          return el("td", {"class": "num"}, [figure("business.api_calls." + index + "." + w, row[w], num(row[w]))]);
        })));
      })));
  }

  // -- loading -----------------------------------------------------------------------------------
  function render(doc) {
    var focusedId = document.activeElement && document.activeElement.getAttribute("data-incident");
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    lastDocument = doc;
    var lag = doc.evaluator && doc.evaluator.lag_seconds;
    document.getElementById("freshness").textContent = "Document of " + doc.generated_at +
      " (" + doc.reads.total + " reads, " + doc.reads.build_ms + " ms); evaluator " +
      (doc.evaluator.state || doc.evaluator.status) + (lag === null || lag === undefined ? "" : ", lag " + duration(lag)) +
      ". Refreshes every " + doc.refresh_seconds + " s.";
    document.body.setAttribute("data-generated-at", doc.generated_at);
    renderHealth(doc);
    renderSlos(doc);
    renderLatency(doc);
    renderAlerts(doc);
    renderTickets(doc);
    renderIncidents(doc);
    renderBreakers(doc);
    renderExperiments(doc);
    renderCapacity(doc);
    renderBusiness(doc);
    if (focusedId) {
      var again = document.querySelector('button[data-incident="' + focusedId + '"]');
      if (again) { again.focus(); }
    }
  }

  function load() {
    if (timer) { clearTimeout(timer); timer = null; }
    var errorBox = document.getElementById("load-error");
    // Deployed, reading needs a token (a viewer's or an operator's): the one kept for this tab.
    var headers = {Accept: "application/json"};
    var kept = window.sessionStorage.getItem(TOKEN_KEY);
    if (kept) { headers.Authorization = "Bearer " + kept; }
    return fetch("/sre/dashboard", {cache: "no-store", headers: headers})
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          var refused = new Error(kept ? "The token kept for this tab may not read the dashboard (" + response.status +
            "): enter a viewer or operator token above." :
            "Reading the dashboard needs a token: enter a viewer or operator token above.");
          refused.needsToken = true;
          throw refused;
        }
        if (!response.ok) { throw new Error("GET /sre/dashboard answered " + response.status); }
        return response.json();
      })
      .then(function (doc) {
        errorBox.hidden = true;
        render(doc);
        timer = setTimeout(load, Math.max(5, doc.refresh_seconds) * 1000);
      })
      .catch(function (error) {
        errorBox.hidden = false;
        if (error.needsToken) {
          // No retry: the answer stays the same until a token is kept (the form reloads then).
          errorBox.textContent = error.message;
          if (!lastDocument) { document.getElementById("freshness").textContent = "Not loaded: a token is needed."; }
          if (!document.activeElement || document.activeElement === document.body) {
            document.getElementById("token").focus();
          }
          return;
        }
        errorBox.textContent = "The dashboard could not be loaded: " + error.message +
          (lastDocument ? ". Showing the document of " + lastDocument.generated_at + "." : ".");
        timer = setTimeout(load, 10000);
      });
  }

  // -- operator token and acknowledge ------------------------------------------------------------
  function tokenState() {
    var kept = window.sessionStorage.getItem(TOKEN_KEY);
    document.getElementById("token-state").textContent = kept ? "Token kept for this tab." :
      "No token: acknowledging needs the operator token; deployed, reading needs a viewer or operator token.";
  }

  var ackOutcome = {text: "", className: ""};

  function showAckOutcome(text, className) {
    ackOutcome = {text: text, className: className};
    var result = document.getElementById("ack-result");
    result.textContent = text;
    result.className = className;
  }

  function acknowledge(button) {
    var id = button.getAttribute("data-incident");
    var token = window.sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      showAckOutcome("Enter the operator token first.", "error");
      document.getElementById("token").focus();
      return;
    }
    button.disabled = true;
    fetch("/sre/incidents/" + encodeURIComponent(id) + "/ack", {
      method: "POST", cache: "no-store",
      headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json", Accept: "application/json"},
      body: "{}"
    }).then(function (response) {
      return response.json().then(function (body) { return {ok: response.ok, status: response.status, body: body}; });
    }).then(function (answer) {
      if (!answer.ok) {
        showAckOutcome("Acknowledge failed (" + answer.status + "): " + (answer.body.error || "no reason given"), "error");
        button.disabled = false;
        return;
      }
      showAckOutcome("Acknowledged " + id + " as " + (answer.body.incident.acknowledged_by || "operator") + ".", "");
      load();
    }).catch(function (error) {
      showAckOutcome("Acknowledge failed: " + error.message, "error");
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.getElementById("token-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("token");
      if (input.value.trim()) { window.sessionStorage.setItem(TOKEN_KEY, input.value.trim()); }
      input.value = "";
      tokenState();
      load();
    });
    document.getElementById("token-forget").addEventListener("click", function () {
      window.sessionStorage.removeItem(TOKEN_KEY);
      tokenState();
    });
    document.getElementById("incidents").addEventListener("click", function (event) {
      var target = event.target;
      if (target && target.classList && target.classList.contains("ack")) { acknowledge(target); }
    });
    tokenState();
    load();
  });
}());
