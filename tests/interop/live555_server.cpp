// A small live555 RTSP server for camgrid's interop tests, built from live555's own source by
// scripts/build-live555.sh (modelled on live555's testProgs/testOnDemandRTSPServer.cpp).
//
// Usage: camgrid-live555-server PORT NAME MODE FILE.h264 [NAME MODE FILE ...]  ->  rtsp://127.0.0.1:PORT/NAME
// Each client gets the file from its start, paced in real time. MODE is
//   file      live555's H264VideoFileServerMediaSubsession: its stream parser finds access units itself;
//   discrete  what embedded cameras built on live555 do: the encoder hands over one NAL unit at a time to an
//             H264VideoStreamDiscreteFramer, which "assumes that if this NAL unit is a VCL NAL unit, then it ends the
//             current access unit" and so sets the RTP marker bit after EVERY slice.
#include "liveMedia.hh"
#include "BasicUsageEnvironment.hh"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/time.h>
#include <vector>

typedef std::vector<unsigned char> Bytes;

static std::vector<Bytes> readNals(char const* path) {
  std::vector<Bytes> out;
  FILE* f = fopen(path, "rb");
  if (f == NULL) return out;
  Bytes data;
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  fclose(f);
  size_t i = 0, start = 0;
  bool in = false;
  while (i + 3 <= data.size()) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (in) {
        size_t end = i;
        while (end > start && data[end - 1] == 0) end--;
        out.push_back(Bytes(data.begin() + start, data.begin() + end));
      }
      start = i + 3;
      in = true;
      i += 3;
    } else {
      i++;
    }
  }
  if (in && start < data.size()) out.push_back(Bytes(data.begin() + start, data.end()));
  return out;
}

static bool isVcl(Bytes const& n) { return !n.empty() && (n[0] & 0x1F) >= 1 && (n[0] & 0x1F) <= 5; }
static bool firstSlice(Bytes const& n) { return isVcl(n) && n.size() > 1 && (n[1] & 0x80); }

// Hands the file's NAL units over one at a time, as a camera's encoder would, each with its picture's time.
class NalSource : public FramedSource {
 public:
  NalSource(UsageEnvironment& env, std::vector<Bytes> const& nals, unsigned fps)
      : FramedSource(env), fNals(nals), fPos(0), fFrameUs(1000000 / fps) {
    int cur = -1;
    for (size_t i = 0; i < fNals.size(); i++) {
      if (firstSlice(fNals[i])) cur++;
      fPicture.push_back(isVcl(fNals[i]) ? cur : cur + 1);  // parameter sets and SEI belong to the next picture
    }
    gettimeofday(&fBase, NULL);
  }

 private:
  virtual void doGetNextFrame() {
    if (fPos >= fNals.size()) {
      handleClosure();
      return;
    }
    Bytes const& n = fNals[fPos];
    unsigned size = n.size();
    fNumTruncatedBytes = 0;
    if (size > fMaxSize) {
      fNumTruncatedBytes = size - fMaxSize;
      size = fMaxSize;
    }
    memcpy(fTo, n.data(), size);
    fFrameSize = size;
    long long us = (long long)fBase.tv_usec + (long long)fPicture[fPos] * fFrameUs;
    fPresentationTime.tv_sec = fBase.tv_sec + us / 1000000;
    fPresentationTime.tv_usec = us % 1000000;
    bool ends = fPos + 1 >= fNals.size() || fPicture[fPos + 1] != fPicture[fPos];
    fDurationInMicroseconds = ends ? fFrameUs : 0;
    fPos++;
    nextTask() = envir().taskScheduler().scheduleDelayedTask(0, (TaskFunc*)FramedSource::afterGetting, this);
  }

  std::vector<Bytes> const& fNals;
  std::vector<int> fPicture;
  size_t fPos;
  unsigned fFrameUs;
  struct timeval fBase;
};

class DiscreteSubsession : public OnDemandServerMediaSubsession {
 public:
  DiscreteSubsession(UsageEnvironment& env, char const* path)
      : OnDemandServerMediaSubsession(env, False), fNals(readNals(path)) {
    for (Bytes const& n : fNals) {
      if ((n[0] & 0x1F) == 7 && fSps.empty()) fSps = n;
      if ((n[0] & 0x1F) == 8 && fPps.empty()) fPps = n;
    }
  }
  bool ok() const { return !fNals.empty() && !fSps.empty() && !fPps.empty(); }

 protected:
  virtual FramedSource* createNewStreamSource(unsigned, unsigned& estBitrate) {
    estBitrate = 500;
    return H264VideoStreamDiscreteFramer::createNew(envir(), new NalSource(envir(), fNals, 25));
  }
  virtual RTPSink* createNewRTPSink(Groupsock* rtpGroupsock, unsigned char payloadType, FramedSource*) {
    return H264VideoRTPSink::createNew(envir(), rtpGroupsock, payloadType, fSps.data(), fSps.size(), fPps.data(),
                                       fPps.size());
  }

 private:
  std::vector<Bytes> fNals;
  Bytes fSps, fPps;
};

int main(int argc, char** argv) {
  if (argc < 5 || (argc - 2) % 3 != 0) {
    fprintf(stderr, "usage: %s PORT NAME file|discrete FILE.h264 [NAME MODE FILE ...]\n", argv[0]);
    return 2;
  }
  OutPacketBuffer::maxSize = 2000000;  // whole pictures of a few hundred kB
  TaskScheduler* scheduler = BasicTaskScheduler::createNew();
  UsageEnvironment* env = BasicUsageEnvironment::createNew(*scheduler);
  RTSPServer* server = RTSPServer::createNew(*env, atoi(argv[1]), NULL, 65 /* session timeout, live555's default */);
  if (server == NULL) {
    fprintf(stderr, "live555: cannot start the server: %s\n", env->getResultMsg());
    return 1;
  }
  for (int i = 2; i + 2 < argc; i += 3) {
    char const* name = argv[i];
    std::string mode = argv[i + 1];
    char const* file = argv[i + 2];
    ServerMediaSession* sms = ServerMediaSession::createNew(*env, name, name, "camgrid interop (live555)");
    if (mode == "discrete") {
      DiscreteSubsession* sub = new DiscreteSubsession(*env, file);
      if (!sub->ok()) {
        fprintf(stderr, "live555: %s: no H.264 stream with SPS and PPS\n", file);
        return 1;
      }
      sms->addSubsession(sub);
    } else {
      sms->addSubsession(H264VideoFileServerMediaSubsession::createNew(*env, file, False));
    }
    server->addServerMediaSession(sms);
  }
  printf("ready %s\n", argv[1]);
  fflush(stdout);
  env->taskScheduler().doEventLoop();
  return 0;
}
