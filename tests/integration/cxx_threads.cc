// cxx_threads.cc - a threaded C++ program for cxx_threads.sh: two producer
// threads build objects out of standard containers and hand them through a
// mutex-protected queue to two consumer threads, which read and destroy
// them.  So most blocks are freed by a thread other than the one that
// allocated them (the allocator's cross-thread free path), and operator
// new/delete, std::string, vector growth (realloc-like copy) and node-based
// maps all run under contention.
//
// Output: one line per producer and a total; sums are order-independent so
// the output is the same however the threads interleave.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

const int kProducers = 2;
const int kConsumers = 2;
const int kItemsPerProducer = 12000;

struct Payload {
    std::string label;
    std::vector<std::uint32_t> values;
};

struct Item {
    int producer;
    int seq;
    std::string name;
    std::vector<std::string> words;
    std::map<std::string, int> counts;
    std::unordered_map<int, std::string> lookup;
    std::shared_ptr<Payload> payload;   // shared with the producer's cache
};

std::uint64_t mix(std::uint64_t h, std::uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

std::uint64_t hash_str(const std::string &s)
{
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ULL;
    return h;
}

// The checksum of an item: what the consumer computes, and what the
// producer computes before sending, so that corruption in transit shows.
std::uint64_t checksum(const Item &it)
{
    std::uint64_t h = mix(it.producer, it.seq);
    h = mix(h, hash_str(it.name));
    for (const auto &w : it.words)
        h = mix(h, hash_str(w));
    for (const auto &kv : it.counts)
        h = mix(h, hash_str(kv.first) + kv.second);
    std::uint64_t u = 0;   // unordered: combine commutatively
    for (const auto &kv : it.lookup)
        u += mix(kv.first, hash_str(kv.second));
    h = mix(h, u);
    h = mix(h, hash_str(it.payload->label));
    for (auto v : it.payload->values)
        h = mix(h, v);
    return h;
}

class Queue {
public:
    void push(std::unique_ptr<Item> it)
    {
        {
            std::lock_guard<std::mutex> g(m_);
            q_.push_back(std::move(it));
        }
        cv_.notify_one();
    }
    // nullptr once every producer has finished and the queue is empty.
    std::unique_ptr<Item> pop()
    {
        std::unique_lock<std::mutex> g(m_);
        cv_.wait(g, [this] { return !q_.empty() || done_ == kProducers; });
        if (q_.empty())
            return nullptr;
        std::unique_ptr<Item> it = std::move(q_.front());
        q_.pop_front();
        return it;
    }
    void producer_done()
    {
        {
            std::lock_guard<std::mutex> g(m_);
            done_++;
        }
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::unique_ptr<Item>> q_;
    int done_ = 0;
};

Queue queue;
std::uint64_t sent_sum[kProducers];
std::atomic<std::uint64_t> received_sum[kProducers];
std::atomic<int> received_count[kProducers];

void producer(int id)
{
    std::uint64_t x = 88172645463325252ULL + id;
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    // A small cache of payloads: an item shares one with the cache, so the
    // last reference is dropped by whichever thread lets go last.
    std::vector<std::shared_ptr<Payload>> cache(64);
    std::uint64_t sum = 0;
    for (int seq = 0; seq < kItemsPerProducer; seq++) {
        std::unique_ptr<Item> it(new Item);
        it->producer = id;
        it->seq = seq;
        it->name = "item-" + std::to_string(id) + "-" + std::to_string(seq);
        int nwords = 1 + next() % 12;
        for (int w = 0; w < nwords; w++)
            it->words.push_back(std::string(1 + next() % 40, char('a' + next() % 26)));
        for (const auto &w : it->words)
            it->counts[w.substr(0, 1 + w.size() / 3)]++;
        int nlook = next() % 8;
        for (int k = 0; k < nlook; k++)
            it->lookup[int(next() % 1000)] = std::to_string(next());
        auto &slot = cache[next() % cache.size()];
        if (!slot || next() % 4 == 0) {
            slot = std::make_shared<Payload>();
            slot->label = "payload-" + std::to_string(seq);
            slot->values.resize(next() % 300);
            for (auto &v : slot->values)
                v = std::uint32_t(next());
        }
        it->payload = slot;
        sum += checksum(*it);
        queue.push(std::move(it));
    }
    sent_sum[id] = sum;
    queue.producer_done();
}

void consumer()
{
    // Per-consumer scratch: an unordered_map that grows and is cleared.
    std::unordered_map<std::string, std::uint64_t> seen;
    while (std::unique_ptr<Item> it = queue.pop()) {
        std::uint64_t c = checksum(*it);
        seen[it->name] = c;
        if (seen.size() > 500)
            seen.clear();
        received_sum[it->producer] += c;
        received_count[it->producer]++;
        // it (and maybe the last reference to its payload) is freed here,
        // on a thread that did not allocate it.
    }
}

}  // namespace

int main()
{
    std::vector<std::thread> threads;
    for (int i = 0; i < kProducers; i++)
        threads.emplace_back(producer, i);
    for (int i = 0; i < kConsumers; i++)
        threads.emplace_back(consumer);
    for (auto &t : threads)
        t.join();

    int bad = 0;
    std::uint64_t total = 0;
    for (int i = 0; i < kProducers; i++) {
        std::printf("producer %d: %d items, checksum %016llx\n", i, received_count[i].load(),
                    (unsigned long long)received_sum[i].load());
        if (received_count[i] != kItemsPerProducer || received_sum[i] != sent_sum[i]) {
            std::fprintf(stderr, "producer %d: sent %d items with checksum %016llx\n", i,
                         kItemsPerProducer, (unsigned long long)sent_sum[i]);
            bad = 1;
        }
        total += received_sum[i];
    }
    std::printf("total checksum %016llx\n", (unsigned long long)total);
    return bad;
}
