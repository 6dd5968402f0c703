#include "jobq/cron_windows.hpp"
