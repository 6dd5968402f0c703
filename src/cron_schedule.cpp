#include "jobq/cron_schedule.hpp"
