#include "job_row.hpp"

#include <fmt/format.h>

#include "jobq/backend/job_columns.hpp"
#include "jobq/error.hpp"

namespace jobq::postgres_detail {

std::int64_t RowView::int64(int i) const {
    const std::string_view t = text(i);
    std::int64_t v = 0;
    const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc{} || r.ptr != t.data() + t.size()) {
        throw Error(ErrorCode::storage,
                    fmt::format("column {}: '{}' is not an integer", row_[i].name(), t));
    }
    return v;
}

Job read_job(const pqxx::row& row) {
    return detail::read_job_row(RowView(row));
}

}  // namespace jobq::postgres_detail
