// Geometry: kChartMinutes slots of kSlotWidth units across, bars
// kBarWidth wide, kChartHeight units high; the tallest minute fills the
// height. Each minute's outcomes stack from the bottom in the order of the
// task states (OK first), then any other name in name order. Colours come
// from the stylesheet (.chart [data-state=...]).

#include "conductor/finish_chart.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "broker/states.h"

namespace orchestra::conductor {

namespace {

using Minute = std::map<std::string, int64_t>;

constexpr int kSlotWidth = 10;
constexpr int kBarWidth = 8;
constexpr int kChartHeight = 120;

// The task states in stacking order: the known ones, then the others.
std::vector<std::string> StackOrder(const std::vector<Minute>& minutes) {
  std::vector<std::string> order;
  for (int i = 0; i < broker::kTaskStateCount; ++i)
    order.push_back(broker::TaskStateName(static_cast<broker::TaskState>(i)));
  const size_t known = order.size();
  for (const Minute& minute : minutes) {
    for (const auto& [state, count] : minute) {
      if (std::find(order.begin(), order.end(), state) == order.end())
        order.push_back(state);
    }
  }
  std::sort(order.begin() + known, order.end());
  return order;
}

int64_t Total(const Minute& minute) {
  int64_t total = 0;
  for (const auto& entry : minute) total += std::max<int64_t>(entry.second, 0);
  return total;
}

void DrawBar(const Minute& minute, int slot, int minutes_ago, int64_t peak,
             const std::vector<std::string>& order, HtmlWriter* html) {
  double bottom = kChartHeight;
  for (const std::string& state : order) {
    auto it = minute.find(state);
    if (it == minute.end() || it->second <= 0) continue;
    const double height = kChartHeight * static_cast<double>(it->second) /
                          static_cast<double>(peak);
    bottom -= height;
    char geometry[128];
    std::snprintf(geometry, sizeof(geometry),
                  "x=\"%d\" y=\"%.2f\" width=\"%d\" height=\"%.2f\"",
                  slot * kSlotWidth + 1, bottom, kBarWidth, height);
    html->Raw("<rect ").Raw(geometry).Raw(" data-state=\"").Text(state);
    html->Raw("\"><title>").Number(minutes_ago).Raw(" min ago: ");
    html->Text(state).Raw(" ").Number(it->second).Raw("</title></rect>");
  }
}

void DrawLegend(HtmlWriter* html) {
  html->Raw("<ul class=\"legend\">");
  for (int i = 0; i < broker::kTaskStateCount; ++i) {
    const auto state = static_cast<broker::TaskState>(i);
    if (!broker::IsFinal(state)) continue;
    html->Raw("<li data-state=\"").Raw(broker::TaskStateName(state));
    html->Raw("\">").Raw(broker::TaskStateName(state)).Raw("</li>");
  }
  html->Raw("</ul>\n");
}

}  // namespace

void DrawFinishChart(const std::vector<Minute>& minutes, HtmlWriter* html) {
  const size_t shown = std::min<size_t>(minutes.size(), kChartMinutes);
  const std::vector<Minute> last(minutes.end() - shown, minutes.end());
  int64_t peak = 1;
  for (const Minute& minute : last) peak = std::max(peak, Total(minute));
  const std::vector<std::string> order = StackOrder(last);
  html->Raw("<figure class=\"chart\">\n<svg id=\"finished-chart\" ");
  html->Raw("viewBox=\"0 0 ").Number(kChartMinutes * kSlotWidth).Raw(" ");
  html->Number(kChartHeight).Raw("\" data-minutes=\"").Number(kChartMinutes);
  html->Raw("\" data-slot-width=\"").Number(kSlotWidth);
  html->Raw("\" data-bar-width=\"").Number(kBarWidth);
  html->Raw("\" preserveAspectRatio=\"none\" role=\"img\" ");
  html->Raw("aria-label=\"Tasks finished per minute\">");
  const int first_slot = kChartMinutes - static_cast<int>(shown);
  for (size_t i = 0; i < shown; ++i) {
    const int slot = first_slot + static_cast<int>(i);
    DrawBar(last[i], slot, kChartMinutes - 1 - slot, peak, order, html);
  }
  html->Raw(
      "</svg>\n<figcaption>Tasks finished a minute over the last hour "
      "(an hour ago at the left, now at the right; the tallest bar is ");
  html->Raw("<span id=\"chart-peak\">").Number(peak).Raw("</span> tasks).");
  html->Raw("</figcaption>\n");
  DrawLegend(html);
  html->Raw("</figure>\n");
}

}  // namespace orchestra::conductor
