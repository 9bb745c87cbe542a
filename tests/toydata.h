#pragma once
// A toy problem shared by the tests: learnable in seconds, so training, recalibration and
// retraining can be checked on real learning rather than on shapes alone.

#include "metaprune/training.h"

#include <random>

namespace mp::test {

// Four classes, channels x size x size (1x16x16 by default): a bright square in quadrant k on
// a noisy background, in every channel.
inline Dataset toyData(int perClass, uint64_t seed, int channels = 1, int size = 16) {
    Dataset d;
    d.channels = channels;
    d.height = d.width = size;
    d.classNames = {"tl", "tr", "bl", "br"};
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> noise(0, 60);
    const int half = size / 2;
    for (int i = 0; i < perClass * 4; ++i) {
        const int k = i % 4;
        for (int c = 0; c < channels; ++c)
            for (int y = 0; y < size; ++y)
                for (int x = 0; x < size; ++x) {
                    const bool on = (y / half) == (k / 2) && (x / half) == (k % 2) && y % half > 1 && x % half > 1;
                    d.pixels.push_back(uint8_t(noise(rng) + (on ? 180 : 0)));
                }
        d.labels.push_back(k);
    }
    return d;
}

inline DataBundle toyBundle() {
    DataBundle b;
    b.path = "toy";
    b.format = "toy";
    b.train = toyData(200, 1);
    b.test = toyData(50, 2);
    return b;
}

inline TrainConfig toyConfig() {
    TrainConfig c;
    c.dataPath = "toy";
    c.searchPerClass = 10;
    c.epochs = 3;
    c.batchSize = 32;
    c.lr = 0.2;
    c.warmupSteps = 10;
    c.augment = false;
    c.seed = 5;
    return c;
}

} // namespace mp::test
