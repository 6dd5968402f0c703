#include "jobq/time_zone.hpp"
