#include "jobq/crontab.hpp"
