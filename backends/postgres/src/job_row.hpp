#pragma once
// A libpqxx row as the shared job reader (jobq/backend/job_columns.hpp) wants it.

#include <charconv>
#include <cstdint>
#include <string_view>

#include <pqxx/row>

#include "jobq/job.hpp"

namespace jobq::postgres_detail {

/// Read access to one result row in the shape read_job_row() uses. Integers are parsed from
/// libpq's text form directly, which skips libpqxx's locale-safe conversion.
class RowView {
  public:
    explicit RowView(const pqxx::row& row) : row_(row) {}

    bool is_null(int i) const { return row_[i].is_null(); }
    std::string_view text(int i) const {
        const pqxx::field f = row_[i];
        return f.is_null() ? std::string_view{} : std::string_view{f.c_str(), f.size()};
    }
    std::int64_t int64(int i) const;
    int int32(int i) const { return static_cast<int>(int64(i)); }

  private:
    const pqxx::row& row_;
};

/// The job in a row that holds detail::job_columns (starting at column 0).
Job read_job(const pqxx::row& row);

}  // namespace jobq::postgres_detail
