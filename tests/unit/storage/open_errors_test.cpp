// A database we cannot trust must stop the daemon with the path and SQLite's reason, and must
// never be replaced by an empty one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "raw_sqlite.h"
#include "storage/store.h"
#include "storage_test_support.h"

namespace b2bua::storage {
namespace {

using testing::make_call_record;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string read_file(const std::string& path) {
  std::string bytes(std::filesystem::file_size(path), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

// Expects open_sqlite_store(path) to throw a StorageError whose message holds the path and
// `sqlite_words`.
void expect_open_fails(const std::string& path, const std::string& sqlite_words) {
  try {
    auto store = open_sqlite_store(path);
    ADD_FAILURE() << "opened " << path;
  } catch (const StorageError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(sqlite_words), std::string::npos) << message;
  }
}

// A real database with enough rows to span many pages.
void make_database(const std::string& path, int call_records) {
  auto store = open_sqlite_store(path);
  for (int i = 0; i < call_records; ++i) store->call_records().insert(make_call_record("c" + std::to_string(i)));
}

TEST(OpenErrorsTest, GarbageFileIsRefusedAndLeftUntouched) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>('A' + i % 26));
  write_file(path, garbage);
  expect_open_fails(path, "file is not a database");
  EXPECT_EQ(read_file(path), garbage);
}

TEST(OpenErrorsTest, DirectoryInPlaceOfTheFileIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  std::filesystem::create_directory(path);
  expect_open_fails(path, "unable to open database file");
}

TEST(OpenErrorsTest, ParentThatIsAFileIsRefused) {
  testing::TempDir dir;
  write_file(dir.file("state"), "not a directory");
  const std::string path = dir.file("state/b2bua.db");
  expect_open_fails(path, "cannot create directory");
}

// Opens `path` as an unprivileged user (in a child process when the test runs as root, since
// root reads any file) and returns StorageError's message, or "opened" if it did not throw.
std::string open_as_unprivileged_user(const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string result = "opened";
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) result = "cannot drop privileges";
    try {
      if (result == "opened") open_sqlite_store(path).reset();
    } catch (const StorageError& error) {
      result = error.what();
    }
    const ssize_t ignored = write(fds[1], result.data(), result.size());
    static_cast<void>(ignored);
    _exit(0);
  }
  close(fds[1]);
  std::string result;
  char buffer[1024];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) result.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return result;
}

// A database whose file mode denies the unprivileged user; the directory stays open to everyone,
// so what is denied is the file itself. Non-root runs use the stricter `own_mode`, as the
// owner is then the unprivileged user.
void expect_unprivileged_open_fails(mode_t root_mode, mode_t own_mode, const std::string& sqlite_words) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  make_database(path, 10);
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  ASSERT_EQ(chmod(path.c_str(), geteuid() == 0 ? root_mode : own_mode), 0);
  const std::string message = open_as_unprivileged_user(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(sqlite_words), std::string::npos) << message;
}

TEST(OpenErrorsTest, FileWithoutReadPermissionIsRefused) {
  expect_unprivileged_open_fails(0600, 0, "unable to open database file");
}

TEST(OpenErrorsTest, FileWithoutWritePermissionIsRefused) {
  expect_unprivileged_open_fails(0644, 0444, "readonly");
}

TEST(OpenErrorsTest, DatabaseTruncatedInTheMiddleIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  make_database(path, 3000);
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 64u * 1024u);
  std::filesystem::resize_file(path, size / 2);
  expect_open_fails(path, "malformed");
  EXPECT_EQ(std::filesystem::file_size(path), size / 2);
}

TEST(OpenErrorsTest, DatabaseTruncatedInsideItsHeaderIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  make_database(path, 10);
  std::filesystem::resize_file(path, 50);
  expect_open_fails(path, "database disk image is malformed");
}

TEST(OpenErrorsTest, DatabaseWithADamagedPageIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  make_database(path, 3000);
  {
    // Scribble over the middle of a b-tree page, past the header: the file still "opens".
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
    const std::string junk(600, '\x7f');
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  expect_open_fails(path, "corrupt");
}

TEST(OpenErrorsTest, ForeignSqliteDatabaseIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("other.db");
  {
    testing::RawSqlite raw(path);
    raw.exec("CREATE TABLE contacts (name TEXT)");
  }
  expect_open_fails(path, "not a b2bua database");
  testing::RawSqlite raw(path);
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_schema WHERE name = 'bindings'"), "0");
}

TEST(OpenErrorsTest, MissingFileInAnExistingDirectoryIsCreated) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  auto store = open_sqlite_store(path);
  store->call_records().insert(make_call_record("c1"));
  store->flush();
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST(OpenErrorsTest, MissingDirectoriesAreCreated) {
  testing::TempDir dir;
  const std::string path = dir.file("var/lib/b2bua/b2bua.db");
  auto store = open_sqlite_store(path);
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST(OpenErrorsTest, DatabaseIsInWalModeWithFullSync) {
  testing::TempDir dir;
  const std::string path = dir.file("b2bua.db");
  auto store = open_sqlite_store(path);
  testing::RawSqlite raw(path);
  // journal_mode=WAL is persistent in the file; synchronous is per connection, so it is checked
  // by the store's behaviour in the kill test rather than here.
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

}  // namespace
}  // namespace b2bua::storage
