// Tests for conductor/finish_chart.h: the last hour is drawn with the
// newest minute at the right, the tallest minute fills the height, and
// outcomes stack in the order of the task states.

#include "conductor/finish_chart.h"

#include <gtest/gtest.h>

#include <string>

namespace orchestra::conductor {
namespace {

using Minutes = std::vector<std::map<std::string, int64_t>>;

std::string Chart(const Minutes& minutes) {
  HtmlWriter html;
  DrawFinishChart(minutes, &html);
  return html.Take();
}

TEST(FinishChartTest, NewestMinuteIsAtTheRight) {
  Minutes minutes(90);
  minutes.front() = {{"OK", 1}};  // older than the hour: not drawn
  minutes.back() = {{"OK", 2}};
  const std::string chart = Chart(minutes);
  EXPECT_NE(std::string::npos,
            chart.find("<rect x=\"591\" y=\"0.00\" width=\"8\" "
                       "height=\"120.00\" data-state=\"OK\">"));
  EXPECT_EQ(chart.find("<rect "), chart.rfind("<rect "));
}

TEST(FinishChartTest, FewerMinutesAreDrawnAtTheRight) {
  const std::string chart = Chart({{{"FAIL", 4}}});
  EXPECT_NE(std::string::npos, chart.find("<rect x=\"591\""));
  EXPECT_NE(std::string::npos, chart.find("0 min ago: FAIL 4"));
}

TEST(FinishChartTest, OkStacksBelowFailuresAndTheTallestFills) {
  const std::string chart = Chart({{{"FAIL", 1}, {"OK", 3}}, {{"OK", 2}}});
  EXPECT_NE(std::string::npos,
            chart.find("y=\"30.00\" width=\"8\" height=\"90.00\" "
                       "data-state=\"OK\""));
  EXPECT_NE(std::string::npos,
            chart.find("y=\"0.00\" width=\"8\" height=\"30.00\" "
                       "data-state=\"FAIL\""));
  EXPECT_NE(std::string::npos, chart.find("id=\"chart-peak\">4<"));
}

TEST(FinishChartTest, AnEmptyHourDrawsNoBars) {
  const std::string chart = Chart(Minutes(60));
  EXPECT_EQ(std::string::npos, chart.find("<rect"));
  EXPECT_NE(std::string::npos, chart.find("<svg id=\"finished-chart\""));
}

}  // namespace
}  // namespace orchestra::conductor
