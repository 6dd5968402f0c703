#include "job_row.hpp"

namespace jobq::sqlite_detail {

Job read_job(const Statement& row) {
    return detail::read_job_row(row);
}

}  // namespace jobq::sqlite_detail
