// A child process for tests that drive the real tessera binary (or gdb):
// stdout and stderr go to a log file, stdin is /dev/null, and it is killed
// when the object goes away so a failing test leaves nothing running.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

struct ChildProcess {
    pid_t pid = -1;
    std::filesystem::path log;

    // Starts argv[0] with argv; false if it could not be started.
    bool spawn(const std::vector<std::string> &args, const std::filesystem::path &logfile) {
        std::vector<std::string> a = args;
        std::vector<char *> argv;
        for (auto &s : a) argv.push_back(s.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, logfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        log = logfile;
        const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        return rc == 0;
    }
    // The exit status (128 + signal if killed), or -1 if still running after timeout_ms.
    int wait_exit(int timeout_ms) {
        for (int t = 0; t < timeout_ms; t += 20) {
            int st = 0;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }
    std::string output() const {
        std::ifstream f(log);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    ~ChildProcess() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
};
