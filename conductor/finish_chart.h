// The overview's chart of tasks finished a minute over the last hour, by
// outcome: inline SVG stacked bars drawn on the server, no library. The
// script's drawChart() redraws it from /api/v1/overview with the same
// geometry, which the <svg> carries in its viewBox and data- attributes.

#ifndef ORCHESTRA_CONDUCTOR_FINISH_CHART_H_
#define ORCHESTRA_CONDUCTOR_FINISH_CHART_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "conductor/html_writer.h"

namespace orchestra::conductor {

// Minutes the chart shows; the newest is at the right.
constexpr int kChartMinutes = 60;

// Writes the chart (a <figure> holding <svg id="finished-chart">) of
// `minutes`, oldest first, each a task state name -> count. Only the last
// kChartMinutes are drawn; fewer are drawn at the right.
void DrawFinishChart(const std::vector<std::map<std::string, int64_t>>& minutes,
                     HtmlWriter* html);

}  // namespace orchestra::conductor

#endif  // ORCHESTRA_CONDUCTOR_FINISH_CHART_H_
