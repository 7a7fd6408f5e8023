// leak_cxx.cc - no false positives: a threaded C++ program whose memory is
// held by global containers, thread_local containers, shared pointers,
// and the stacks of threads still running (blocked) when main returns.
// Nothing is leaked; the leak check must report nothing lost.
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

static std::map<std::string, std::vector<int>> by_name;
static std::unordered_map<int, std::string> by_id;
static std::list<std::shared_ptr<std::string>> shared;
static std::vector<std::unique_ptr<std::vector<double>>> *heap_held;   // never destroyed
static std::mutex mu;
static std::atomic<int> parked{0};
thread_local std::vector<std::string> per_thread;

static void worker(int id)
{
    for (int i = 0; i < 200; i++) {
        per_thread.push_back(std::string(20 + i % 50, 'a' + id % 26));
        std::lock_guard<std::mutex> g(mu);
        by_name["k" + std::to_string(id) + "_" + std::to_string(i % 17)].push_back(i);
        by_id[id * 1000 + i] = std::string(40, 'x');
        if (i % 10 == 0)
            shared.push_back(std::make_shared<std::string>(100, 's'));
        heap_held->push_back(std::make_unique<std::vector<double>>(i + 1, 1.5));
    }
}

// Runs until the process exits: its containers live on its stack only.
static void parker(int id)
{
    std::vector<std::string> mine;
    for (int i = 0; i < 50; i++)
        mine.push_back(std::string(64, 'p' + id));
    std::map<int, std::vector<char>> more;
    for (int i = 0; i < 20; i++)
        more[i].resize(300);
    parked++;
    for (;;)
        pause();
}

int main()
{
    heap_held = new std::vector<std::unique_ptr<std::vector<double>>>();
    std::vector<std::thread> ts;
    for (int i = 0; i < 6; i++)
        ts.emplace_back(worker, i);
    for (auto &t : ts)
        t.join();
    for (int i = 0; i < 3; i++)
        std::thread(parker, i).detach();
    while (parked.load() < 3)
        usleep(1000);
    std::printf("%zu %zu %zu %zu\n", by_name.size(), by_id.size(), shared.size(), heap_held->size());
    return 0;
}
