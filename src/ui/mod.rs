//! The desktop window (eframe + egui): [`app::FlowscopeApp`] and its panels, each a struct with `ui` that returns [`actions::Action`]s.

pub mod actions;
pub mod app;
pub mod canvas;
pub mod filter_bar;
pub mod inspector;
pub mod layout_state;
pub mod live;
pub mod loader;
pub mod model;
pub mod paint;
pub mod status_bar;
pub mod timeline;
pub mod trace_list;
pub mod waterfall;

pub use app::FlowscopeApp;

/// Opens the window with `paths` loading, and returns when it is closed.
pub fn run(paths: Vec<std::path::PathBuf>, against: Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("flowscope")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "flowscope",
        options,
        Box::new(move |cc| {
            let mut app = FlowscopeApp::new(cc, paths);
            app.compare_once_loaded(against);
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
