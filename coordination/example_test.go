package coordination_test

import (
	"context"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"autoradio"
	"autoradio/coordination"
)

// A node keeps its presence and its candidacy for master with each new
// session; another goroutine follows the mounts.
func ExampleRunSession() {
	var cli *clientv3.Client // connected elsewhere
	ctx := context.Background()
	me := autoradio.MasterInfo{Name: "node1", IPs: []string{"127.0.0.11"}, IcecastPort: 8000}
	log := slog.Default()

	var watcher sync.WaitGroup
	defer watcher.Wait()
	watcher.Go(func() {
		coordination.WatchMounts(ctx, cli, func(mounts []*autoradio.Mount, rev int64) {
			log.Info("mounts changed", "count", len(mounts), "rev", rev)
		}, coordination.WithLogger(log))
	})

	coordination.RunSession(ctx, cli, 5*time.Second, func(ctx context.Context, s *concurrency.Session) error {
		p, err := coordination.Register(ctx, s, autoradio.NodeKey(me.Name), &autoradio.NodeStatus{Name: me.Name})
		if err != nil {
			return err
		}
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() {
			el := coordination.NewElection(s, autoradio.MasterElection, coordination.WithLogger(log))
			el.Run(ctx, me, func(ctx context.Context) {
				log.Info("I am the master")
				<-ctx.Done() // leadership lost: context.Cause(ctx) says why
			})
		})
		for {
			select {
			case <-ctx.Done(): // session lost, or shutting down
				return nil
			case <-time.After(time.Second):
			}
			if _, err := p.Update(ctx, &autoradio.NodeStatus{Name: me.Name, UpdatedAt: time.Now()}); err != nil {
				log.Warn("publishing status", "err", err)
			}
		}
	}, coordination.WithLogger(log))
}
