// <jobq/jobq.hpp> alone, first and only: the umbrella header of the core compiles on its own
// from the installed tree and declares what an application uses.

#include <jobq/jobq.hpp>

#include <type_traits>

static_assert(std::is_class_v<jobq::Queue> && std::is_class_v<jobq::Registry> &&
              std::is_class_v<jobq::Worker> && std::is_class_v<jobq::Scheduler>);
static_assert(std::is_class_v<jobq::JobSpec> && std::is_class_v<jobq::JobContext> &&
              std::is_class_v<jobq::Error> && std::is_class_v<jobq::RetryAfter>);
static_assert(std::is_class_v<jobq::Crontab> && std::is_class_v<jobq::CronSchedule> &&
              std::is_class_v<jobq::FlowControl> && std::is_class_v<jobq::FlowLimits>);
