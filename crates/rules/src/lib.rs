//! wip
#[cfg(test)]
mod t {
    use std::sync::Arc;
    #[test]
    fn cel_api() {
        let mut env = cel::Env::stdlib();
        cel::extensions::strings(&mut env).unwrap();
        let env = Arc::new(env);
        let mut ctx = cel::Context::with_env(env.clone());
        ctx.add_function(
            "cidrContains",
            |net: Arc<String>, ip: Arc<String>| -> bool { net.len() > ip.len() },
        )
        .unwrap();
        let rec = serde_json::json!({"node": "w1", "cidrs": ["10.244.0.0/24", "10.244.1.0/24"], "n": 3, "captures": {"verb": "list"}});
        ctx.add_variable("r", rec).unwrap();
        for src in [
            "r.node == 'w1' && r.n > 2",
            "r.cidrs.join(', ')",
            "cidrContains('10.244.0.0/16', r.cidrs[0])",
            "size(r.cidrs)",
            "r.captures.verb",
            "has(r.missing)",
            "r.cidrs.exists(c, c.startsWith('10.244'))",
        ] {
            let p = env.compile(src).unwrap();
            println!("{src} => {:?}", p.execute(&ctx));
        }
        println!(
            "{:?}",
            env.compile("r.node ==").err().map(|e| e.to_string())
        );
    }
}
