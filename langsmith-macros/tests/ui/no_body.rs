use langsmith::traceable;

trait Model {
    #[traceable]
    fn generate(&self, prompt: &str) -> String;
}

fn main() {}
