# args: --checks all
# syntax=docker/dockerfile:1
FROM golang:1.22 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*
ADD vendor.tar.gz /src/
COPY . /src
WORKDIR /src
RUN go build -o /app . && echo $((1<<2))

FROM alpine:3.19@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
RUN apk add --no-cache ca-certificates
COPY --from=build /app /app
EXPOSE 8080
HEALTHCHECK CMD ["/app", "health"]
USER 10001:10001
ENTRYPOINT ["/app"]
