#pragma once
// A test's private directory: made fresh with mode 0700 (mkdtemp), so no other user of the
// machine can read or plant files in it, and removed with everything in it at the end.

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace jobq::test {

class TempDir {
  public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "jobq-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    /// A file in the directory; by default the database file the tests use.
    std::string file(const std::string& name = "jobs.db") const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

}  // namespace jobq::test
