package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/config"
	"github.com/alliance-project/alliance/internal/egress"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/webhook"
)

// startWebhooks configures the service's webhooks from the settings and
// starts the dispatcher that delivers the outbox. Without
// ALLIANCE_SECRET_KEY no webhook can be created (409 secret_key_unset)
// and nothing is delivered; events still go to the outbox, so setting the
// key later (and replaying) loses none. stop ends the dispatcher and
// waits for the deliveries in flight.
func startWebhooks(cfg config.Config, svc *alliance.Service, st *store.Store, log *slog.Logger) (stop func(), err error) {
	var box *auth.SecretBox
	if cfg.SecretKey != "" {
		if box, err = auth.NewSecretBox(cfg.SecretKey); err != nil {
			return nil, fmt.Errorf("ALLIANCE_SECRET_KEY: %w", err)
		}
	}
	svc.ConfigureWebhooks(alliance.WebhookOptions{SecretBox: box, AllowLoopback: cfg.WebhookAllowLoopback})
	if box == nil {
		log.Info("webhooks off: ALLIANCE_SECRET_KEY is not set; events are kept in the outbox")
		return func() {}, nil
	}
	if cfg.WebhookAllowLoopback {
		log.Warn("webhooks may reach loopback addresses (ALLIANCE_WEBHOOK_ALLOW_LOOPBACK): for development only")
	}
	d := webhook.New(st, webhook.Options{Box: box, Policy: egress.Policy{AllowLoopback: cfg.WebhookAllowLoopback}, Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
