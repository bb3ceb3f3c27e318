//! The commands the server maps onto the state machine, and the views it
//! renders, checked against what Redis 7.0 answers.

use bytes::Bytes;
use cluster::sim::{Layout, NetConfig, Sim, SIM_EPOCH_MS};
use cluster::{
    BumpEpoch, Cluster, ClusterConfig, ClusterError, ClusterHealth, Event, NodeFlags, NodeHealth,
    NodeId, Output, Role,
};
use std::net::IpAddr;

const NOW: u64 = SIM_EPOCH_MS;

fn cfg() -> ClusterConfig {
    ClusterConfig {
        node_timeout_ms: 500,
        port: 7000,
        bus_port: 17000,
        writable_delay_ms: 0,
        ..ClusterConfig::default()
    }
}

fn events(c: &mut Cluster) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(o) = c.poll_output() {
        if let Output::Event(e) = o {
            v.push(e);
        }
    }
    v
}

fn formed(seed: u64, layout: Layout) -> Sim {
    let cfg = ClusterConfig {
        node_timeout_ms: 500,
        writable_delay_ms: 0,
        ..ClusterConfig::default()
    };
    let mut sim = Sim::new(
        seed,
        layout.masters + layout.replicas,
        &cfg,
        NetConfig::default(),
    );
    sim.form_cluster(layout, 30_000).expect("cluster forms");
    sim
}

#[test]
fn error_texts_are_redis_texts() {
    // As printed after "ERR " by Redis 7.0.15 for the same commands.
    let id = NodeId::parse(&[b'0'; 40]).unwrap();
    let cases: Vec<(ClusterError, &str)> = vec![
        (
            ClusterError::SlotRepeated(1),
            "Slot 1 specified multiple times",
        ),
        (ClusterError::SlotBusy(2), "Slot 2 is already busy"),
        (
            ClusterError::SlotUnassigned(7),
            "Slot 7 is already unassigned",
        ),
        (ClusterError::InvalidSlot, "Invalid or out of range slot"),
        (
            ClusterError::BadSlotRange(5, 3),
            "start slot number 5 is greater than end slot number 3",
        ),
        (
            ClusterError::ConfigEpochNonZero,
            "Node config epoch is already non-zero",
        ),
        (
            ClusterError::ConfigEpochOthersKnown,
            "The user can assign a config epoch only when the node does not know any other node.",
        ),
        (
            ClusterError::UnknownNode(id.to_string()),
            "Unknown node 0000000000000000000000000000000000000000",
        ),
        (
            ClusterError::CantForgetMyself,
            "I tried hard but I can't forget myself...",
        ),
        (ClusterError::CantForgetMyMaster, "Can't forget my master!"),
        (ClusterError::CantReplicateMyself, "Can't replicate myself"),
        (
            ClusterError::ReplicateAReplica,
            "I can only replicate a master, not a replica.",
        ),
        (
            ClusterError::MasterNotEmpty,
            "To set a master the node must be empty and without assigned slots.",
        ),
        (
            ClusterError::InvalidAddress("127.0.0.1".into(), 0),
            "Invalid node address specified: 127.0.0.1:0",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), text);
    }
    assert_eq!(BumpEpoch::Bumped(3).to_string(), "BUMPED 3");
    assert_eq!(BumpEpoch::Still(5).to_string(), "STILL 5");
}

#[test]
fn fresh_node_views_match_redis() {
    let mut c = Cluster::new(cfg(), 1, NOW);
    let id = c.myself_id();
    // Redis 7.0 on a fresh node without announced IP: `<id> :30004@40004 myself,master - 0 0 0 connected`.
    assert_eq!(
        c.nodes_text(),
        format!("{id} :7000@17000 myself,master - 0 0 0 connected\n")
    );
    assert_eq!(
        c.to_nodes_conf(),
        format!("{id} :7000@17000 myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n")
    );
    assert_eq!(
        c.info().render(),
        "cluster_state:fail\r\ncluster_slots_assigned:0\r\ncluster_slots_ok:0\r\ncluster_slots_pfail:0\r\n\
         cluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:0\r\ncluster_current_epoch:0\r\n\
         cluster_my_epoch:0\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n\
         total_cluster_links_buffer_limit_exceeded:0\r\n"
    );
    assert_eq!(c.health(), ClusterHealth::Fail);
    c.add_slot_ranges(NOW, &[(0, 16383)]).unwrap();
    assert_eq!(c.health(), ClusterHealth::Ok);
    assert!(events(&mut c).contains(&Event::HealthChanged(ClusterHealth::Ok)));

    let hosted = ClusterConfig {
        announce_ip: Some("10.0.0.7".parse().unwrap()),
        hostname: Some("host-a".into()),
        ..cfg()
    };
    let c = Cluster::new(hosted, 2, NOW);
    let line = c.nodes_text();
    assert!(
        line.ends_with(" 10.0.0.7:7000@17000,host-a myself,master - 0 0 0 connected\n"),
        "{line}"
    );
}

#[test]
fn addslots_and_delslots() {
    let mut c = Cluster::new(cfg(), 1, NOW);
    assert_eq!(
        c.add_slots(NOW, &[1, 2, 1]),
        Err(ClusterError::SlotRepeated(1))
    );
    assert_eq!(c.add_slots(NOW, &[16384]), Err(ClusterError::InvalidSlot));
    assert_eq!(
        c.add_slot_ranges(NOW, &[(5, 3)]),
        Err(ClusterError::BadSlotRange(5, 3))
    );
    assert_eq!(
        c.add_slot_ranges(NOW, &[(0, 10), (10, 12)]),
        Err(ClusterError::SlotRepeated(10))
    );
    // All or nothing.
    assert_eq!(c.info().slots_assigned, 0);
    c.add_slot_ranges(NOW, &[(0, 99), (200, 299)]).unwrap();
    assert_eq!(
        c.add_slots(NOW, &[300, 50]),
        Err(ClusterError::SlotBusy(50))
    );
    assert!(c.slot_owner(300).is_none());
    assert_eq!(c.myself().slots.ranges(), vec![(0, 99), (200, 299)]);
    assert!(c.nodes_text().ends_with(" connected 0-99 200-299\n"));
    assert_eq!(
        c.del_slots(NOW, &[7, 7]),
        Err(ClusterError::SlotRepeated(7))
    );
    assert_eq!(
        c.del_slots(NOW, &[150]),
        Err(ClusterError::SlotUnassigned(150))
    );
    c.del_slot_ranges(NOW, &[(0, 49)]).unwrap();
    c.add_slots(NOW, &[150]).unwrap();
    assert_eq!(
        c.myself().slots.ranges(),
        vec![(50, 99), (150, 150), (200, 299)]
    );
    assert!(c.nodes_text().ends_with(" connected 50-99 150 200-299\n"));
    let ev = events(&mut c);
    assert!(ev.contains(&Event::SlotsChanged) && ev.contains(&Event::ConfigChanged));
    c.flush_slots(NOW);
    assert!(c.myself().slots.is_empty() && c.slot_owner(60).is_none());
}

#[test]
fn epochs_commands() {
    let mut c = Cluster::new(cfg(), 1, NOW);
    assert_eq!(c.bump_epoch(NOW), BumpEpoch::Bumped(1));
    assert_eq!(c.bump_epoch(NOW), BumpEpoch::Still(1));
    assert_eq!(
        c.set_config_epoch(NOW, 9),
        Err(ClusterError::ConfigEpochNonZero)
    );
    let mut c = Cluster::new(cfg(), 2, NOW);
    c.set_config_epoch(NOW, 5).unwrap();
    assert_eq!((c.myself().config_epoch, c.current_epoch()), (5, 5));
    assert_eq!(c.bump_epoch(NOW), BumpEpoch::Still(5));
    // Once another node is known, SET-CONFIG-EPOCH is refused.
    let mut c = Cluster::new(cfg(), 3, NOW);
    c.meet(NOW, "127.0.0.1".parse().unwrap(), 7001, None)
        .unwrap();
    assert_eq!(
        c.set_config_epoch(NOW, 1),
        Err(ClusterError::ConfigEpochOthersKnown)
    );
}

#[test]
fn meet_validates_and_starts_a_handshake_that_expires() {
    let mut c = Cluster::new(cfg(), 1, NOW);
    let ip: IpAddr = "127.0.0.9".parse().unwrap();
    assert!(matches!(
        c.meet(NOW, ip, 0, None),
        Err(ClusterError::InvalidAddress(_, 0))
    ));
    assert!(matches!(
        c.meet(NOW, ip, 60000, None),
        Err(ClusterError::InvalidAddress(_, 60000))
    ));
    c.meet(NOW, ip, 7001, None).unwrap();
    c.meet(NOW, ip, 7001, None).unwrap(); // a second MEET joins the same handshake
    assert_eq!(c.nodes().filter(|n| n.in_handshake()).count(), 1);
    let hs = c.nodes().find(|n| n.in_handshake()).unwrap().clone();
    assert_eq!(hs.addr.bus_port, 17001);
    assert!(c
        .nodes_text()
        .contains(&format!("{} 127.0.0.9:7001@17001 handshake - ", hs.id)));
    assert!(
        !c.to_nodes_conf().contains(hs.id.as_str()),
        "handshakes are not saved"
    );
    // The MEET went out, and is retried by the timer until the handshake expires.
    let mut meets = 0;
    let mut now = NOW;
    while now < NOW + 1500 {
        c.handle_tick(now);
        while let Some(o) = c.poll_output() {
            if let Output::Send {
                to,
                kind: cluster::wire::MessageType::Meet,
                ..
            } = o
            {
                assert_eq!(to.to_string(), "127.0.0.9:17001");
                meets += 1;
            }
        }
        now += 100;
    }
    assert!(meets >= 5, "{meets}");
    assert_eq!(
        c.nodes().count(),
        1,
        "handshake expired after max(node_timeout, 1 s)"
    );
}

#[test]
fn replicate_forget_reset() {
    let mut sim = formed(
        11,
        Layout {
            masters: 2,
            replicas: 1,
        },
    );
    let (m0, m1, r) = (sim.id(0), sim.id(1), sim.id(2));
    let stranger = NodeId::parse(&[b'f'; 40]).unwrap();
    sim.with_node(2, |c, now| {
        assert_eq!(
            c.replicate(now, &stranger),
            Err(ClusterError::UnknownNode(stranger.to_string()))
        );
        assert_eq!(c.replicate(now, &r), Err(ClusterError::CantReplicateMyself));
        assert_eq!(c.forget(now, &r), Err(ClusterError::CantForgetMyself));
        assert_eq!(
            c.forget(now, &stranger),
            Err(ClusterError::UnknownNode(stranger.to_string()))
        );
    });
    let master_of_2 = sim.node(2).myself().master.unwrap();
    let other = if master_of_2 == m0 { m1 } else { m0 };
    sim.with_node(2, |c, now| {
        assert_eq!(
            c.forget(now, &master_of_2),
            Err(ClusterError::CantForgetMyMaster)
        )
    });
    sim.with_node(0, |c, now| {
        assert_eq!(c.replicate(now, &r), Err(ClusterError::ReplicateAReplica))
    });
    sim.with_node(0, |c, now| {
        assert_eq!(c.replicate(now, &m1), Err(ClusterError::MasterNotEmpty))
    });
    // A replica may switch masters; the others learn it.
    sim.with_node(2, |c, now| c.replicate(now, &other)).unwrap();
    assert!(sim
        .log
        .iter()
        .any(|l| l.node == 2 && l.event == Event::RoleChanged(Some(other))));
    sim.run_until_ok(5000, 100, |s| s.check_converged().is_ok())
        .expect("converges");
    assert_eq!(sim.node(0).node(&r).unwrap().master, Some(other));
    assert_eq!(sim.node(0).replicas_of(&other).len(), 1);
    // RESET SOFT on the replica: a master knowing only itself, same id.
    sim.with_node(2, |c, now| c.reset(now, false));
    assert_eq!(sim.id(2), r);
    assert!(sim.node(2).myself().is_master() && sim.node(2).nodes().count() == 1);
    assert!(sim
        .log
        .iter()
        .any(|l| l.node == 2 && l.event == Event::RoleChanged(None)));
}

#[test]
fn slots_and_shards_views() {
    let sim = formed(
        5,
        Layout {
            masters: 3,
            replicas: 2,
        },
    );
    let c = sim.node(4);
    let ranges = c.slot_ranges();
    assert_eq!(ranges.len(), 3);
    assert_eq!((ranges[0].start, ranges[2].end), (0, 16383));
    for w in ranges.windows(2) {
        assert_eq!(w[0].end + 1, w[1].start);
    }
    let replicas: usize = ranges.iter().map(|r| r.replicas.len()).sum();
    assert_eq!(replicas, 2);
    let shards = c.shards();
    assert_eq!(shards.len(), 3);
    for s in &shards {
        assert_eq!(s.nodes[0].role, Role::Master);
        assert!(s.nodes[1..]
            .iter()
            .all(|n| n.role == Role::Replica && n.health == NodeHealth::Online));
        assert_eq!(s.slots.len(), 1);
    }
    let info = c.info();
    assert_eq!((info.size, info.known_nodes, info.slots_ok), (3, 5, 16384));
    assert!(
        info.sent.iter().any(|(n, _)| *n == "ping")
            && info.received.iter().any(|(n, _)| *n == "pong")
    );
    // Every line of CLUSTER NODES has the Redis shape.
    for line in c.nodes_text().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert!(f.len() >= 8, "{line}");
        assert!(NodeId::parse(f[0].as_bytes()).is_some());
        assert!(f[1].contains(':') && f[1].contains('@'));
        assert!(f[3] == "-" || NodeId::parse(f[3].as_bytes()).is_some());
        assert!(
            f[4].parse::<u64>().is_ok()
                && f[5].parse::<u64>().is_ok()
                && f[6].parse::<u64>().is_ok()
        );
        assert_eq!(f[7], "connected");
    }
}

#[test]
fn nodes_conf_survives_restart() {
    let mut sim = formed(
        7,
        Layout {
            masters: 3,
            replicas: 1,
        },
    );
    let before = sim.node(1).to_nodes_conf();
    let id = sim.id(1);
    let text = sim.nodes[1]
        .saved_conf
        .clone()
        .expect("saved on ConfigChanged");
    let c = Cluster::from_nodes_conf(sim.nodes[1].config.clone(), 1, sim.now, &text).unwrap();
    assert_eq!(c.myself_id(), id);
    assert_eq!(c.current_epoch(), sim.node(1).current_epoch());
    assert_eq!(c.myself().slots, sim.node(1).myself().slots);
    // Same table, up to the ping/pong times and link states.
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                l.split(' ')
                    .enumerate()
                    .filter(|(i, _)| *i != 4 && *i != 5 && *i != 7)
                    .map(|(_, x)| x)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(strip(&c.to_nodes_conf()), strip(&before));
    sim.kill(1);
    sim.run_for(300);
    sim.restart(1);
    assert_eq!(sim.id(1), id);
    sim.run_until_ok(10_000, 100, |s| {
        s.check_converged().is_ok() && s.all_healthy()
    })
    .expect("rejoins");
}

#[test]
fn ip_is_learned_from_meet() {
    let mut sim = formed(
        3,
        Layout {
            masters: 1,
            replicas: 1,
        },
    );
    for i in 0..2 {
        assert_eq!(
            sim.node(i).myself().addr.ip,
            Some(sim.nodes[i].ip),
            "node {i}"
        );
    }
    sim.run_for(100);
}

#[test]
fn publish_reaches_the_cluster_or_the_shard() {
    let mut sim = formed(
        9,
        Layout {
            masters: 2,
            replicas: 2,
        },
    );
    let from = 0;
    sim.with_node(from, |c, now| {
        c.publish(
            now,
            Bytes::from_static(b"news"),
            Bytes::from_static(b"hi"),
            false,
        )
    });
    sim.run_for(200);
    let got = |sim: &Sim, sharded: bool| -> Vec<usize> {
        let mut v: Vec<usize> = sim
            .log
            .iter()
            .filter(|l| matches!(&l.event, Event::Publish { sharded: s, .. } if *s == sharded))
            .map(|l| l.node)
            .collect();
        v.sort();
        v
    };
    assert_eq!(got(&sim, false), vec![1, 2, 3]);
    sim.with_node(from, |c, now| {
        c.publish(
            now,
            Bytes::from_static(b"s"),
            Bytes::from_static(b"x"),
            true,
        )
    });
    sim.run_for(200);
    let shard: Vec<usize> = (1..4)
        .filter(|&i| sim.node(i).myself().master == Some(sim.id(0)))
        .collect();
    assert_eq!(got(&sim, true), shard);
}

#[test]
fn forget_ban_expires_and_gossip_readds() {
    let cfg = ClusterConfig {
        node_timeout_ms: 500,
        writable_delay_ms: 0,
        forget_ban_ms: 3000,
        ..ClusterConfig::default()
    };
    let mut sim = Sim::new(4, 3, &cfg, NetConfig::default());
    sim.form_cluster(
        Layout {
            masters: 3,
            replicas: 0,
        },
        30_000,
    )
    .unwrap();
    let gone = sim.id(2);
    sim.with_node(0, |c, now| c.forget(now, &gone)).unwrap();
    assert!(sim.node(0).is_banned(sim.now, &gone));
    sim.run_for(2500);
    assert!(
        sim.node(0).node(&gone).is_none(),
        "gossip from node 1 is ignored during the ban"
    );
    sim.run_until_ok(5000, 100, |s| s.check_converged().is_ok())
        .expect("re-added after the ban");
}

#[test]
fn strangers_and_garbage_are_counted() {
    let mut a = Cluster::new(cfg(), 1, NOW);
    let b = Cluster::new(
        ClusterConfig {
            port: 7001,
            bus_port: 17001,
            ..cfg()
        },
        2,
        NOW,
    );
    let peer = cluster::PeerInfo {
        src_ip: Some("127.0.0.2".parse().unwrap()),
        local_ip: Some("127.0.0.1".parse().unwrap()),
    };
    a.handle_message(NOW, peer, b"not a frame at all");
    a.handle_message(NOW, peer, &[]);
    assert_eq!(a.stats().dropped_malformed, 2);
    // A well-formed PING from a node a does not know: answered, not processed.
    let mut b = b;
    b.meet(NOW, "127.0.0.1".parse().unwrap(), 7000, None)
        .unwrap();
    let frame = loop {
        match b.poll_output() {
            Some(Output::Send { frame, .. }) => break frame,
            Some(_) => continue,
            None => panic!("b sent nothing"),
        }
    };
    let mut ping = cluster::wire::decode(&frame).unwrap();
    ping.body = cluster::wire::Body::Ping(vec![]);
    a.handle_message(NOW, peer, &cluster::wire::encode(&ping));
    assert_eq!(a.stats().dropped_unknown_sender, 1);
    assert_eq!(a.nodes().count(), 1);
    assert!(std::iter::from_fn(|| a.poll_output()).any(|o| matches!(
        o,
        Output::Send {
            kind: cluster::wire::MessageType::Pong,
            ..
        }
    )));
    let mut bad = frame.to_vec();
    bad[20] ^= 0x40;
    a.handle_message(NOW, peer, &bad);
    assert_eq!(a.stats().dropped_checksum, 1);
    assert!(a
        .info()
        .render()
        .contains("cluster_stats_messages_dropped:3\r\n"));
}

#[test]
fn node_flags_names() {
    assert_eq!(
        (NodeFlags::MYSELF | NodeFlags::MASTER).redis_names(),
        "myself,master"
    );
    assert_eq!(
        (NodeFlags::REPLICA | NodeFlags::PFAIL).redis_names(),
        "slave,fail?"
    );
    assert_eq!(
        (NodeFlags::MASTER | NodeFlags::FAIL | NodeFlags::NOFAILOVER).redis_names(),
        "master,fail,nofailover"
    );
    assert_eq!(NodeFlags::empty().redis_names(), "noflags");
    let f = NodeFlags::from_redis_names("myself,slave,fail?,noaddr");
    assert_eq!(
        f,
        NodeFlags::MYSELF | NodeFlags::REPLICA | NodeFlags::PFAIL | NodeFlags::NOADDR
    );
}

#[test]
fn reconfigure_announces_the_new_hostname() {
    let mut sim = formed(
        13,
        Layout {
            masters: 2,
            replicas: 0,
        },
    );
    let mut cfg = sim.node(0).config().clone();
    cfg.hostname = Some("db-0.example".into());
    sim.with_node(0, |c, now| c.reconfigure(now, cfg));
    sim.run_for(1000);
    let id = sim.id(0);
    let seen = sim.node(1).node(&id).unwrap();
    assert_eq!(seen.addr.hostname.as_deref(), Some("db-0.example"));
    assert!(sim.node(1).nodes_text().contains(",db-0.example master "));
}
