// A minimal live555 RTSP server for camgrid's interop tests (built from live555's own source by
// scripts/build-live555.sh; modelled on live555's testProgs/testOnDemandRTSPServer.cpp).
// Usage: camgrid-live555-server PORT FILE.h264 [NAME]  ->  rtsp://127.0.0.1:PORT/NAME (default "stream")
// Serves an H.264 elementary stream file on demand, each client from the start of the file, paced in real time.
#include "liveMedia.hh"
#include "BasicUsageEnvironment.hh"
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT FILE.h264 [NAME]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  char const* file = argv[2];
  char const* name = argc > 3 ? argv[3] : "stream";
  OutPacketBuffer::maxSize = 2000000;  // whole pictures of a few hundred kB
  TaskScheduler* scheduler = BasicTaskScheduler::createNew();
  UsageEnvironment* env = BasicUsageEnvironment::createNew(*scheduler);
  RTSPServer* server = RTSPServer::createNew(*env, port, NULL, 65 /* reclamation seconds */);
  if (server == NULL) {
    fprintf(stderr, "live555: cannot start the server: %s\n", env->getResultMsg());
    return 1;
  }
  ServerMediaSession* sms = ServerMediaSession::createNew(*env, name, name, "camgrid interop (live555)");
  sms->addSubsession(H264VideoFileServerMediaSubsession::createNew(*env, file, False));
  server->addServerMediaSession(sms);
  char* url = server->rtspURL(sms);
  printf("ready %s\n", url);
  fflush(stdout);
  delete[] url;
  env->taskScheduler().doEventLoop();
  return 0;
}
