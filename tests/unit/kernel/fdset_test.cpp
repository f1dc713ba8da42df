#include "files/fdset.hpp"
#include "options/keyval.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

using namespace tessera;

TEST(Fdset, OpensADupOfTheMatchingFd) {
    char path[] = "/tmp/tessera-fdset-XXXXXX";
    int rw = mkstemp(path);
    ASSERT_GE(rw, 3);
    int ro = open(path, O_RDONLY);
    fdset_add(5, ro, "ro");
    fdset_add(5, rw, "rw");
    int a = file_open("/dev/fdset/5", O_RDWR);
    ASSERT_GE(a, 0);
    EXPECT_NE(a, rw);  // a dup, so closing it keeps the set usable
    EXPECT_EQ(fcntl(a, F_GETFL) & O_ACCMODE, O_RDWR);
    EXPECT_TRUE(fcntl(a, F_GETFD) & FD_CLOEXEC);
    close(a);
    int b = file_open("/dev/fdset/5", O_RDONLY);
    EXPECT_EQ(fcntl(b, F_GETFL) & O_ACCMODE, O_RDONLY);
    close(b);
    EXPECT_EQ(file_open("/dev/fdset/5", O_WRONLY), -1);
    EXPECT_EQ(errno, EACCES);
    EXPECT_EQ(file_open("/dev/fdset/77", O_RDONLY), -1);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_EQ(file_open("/dev/fdset/x", O_RDONLY), -1);
    unlink(path);
}

TEST(Fdset, RefusesStandardStreamsAndClosedFds) {
    EXPECT_THROW(fdset_add(1, 2, ""), UsageError);
    EXPECT_THROW(fdset_add(1, 999, ""), UsageError);
}

TEST(Fdset, PlainPathsOpenNormally) {
    int fd = file_open("/dev/null", O_RDONLY);
    EXPECT_GE(fd, 0);
    close(fd);
    EXPECT_EQ(file_open("/nonexistent/x", O_RDONLY), -1);
    EXPECT_EQ(errno, ENOENT);
}
