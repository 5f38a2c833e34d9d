package sim

// pool is a set of int32 ids with O(1) add, remove and uniform pick, and a
// deterministic order (no map iteration).
type pool struct {
	ids []int32
	pos map[int32]int
}

func newPool() *pool { return &pool{pos: map[int32]int{}} }

func (p *pool) len() int { return len(p.ids) }

func (p *pool) has(id int32) bool { _, ok := p.pos[id]; return ok }

func (p *pool) add(id int32) {
	if p.has(id) {
		return
	}
	p.pos[id] = len(p.ids)
	p.ids = append(p.ids, id)
}

func (p *pool) remove(id int32) {
	i, ok := p.pos[id]
	if !ok {
		return
	}
	last := p.ids[len(p.ids)-1]
	p.ids[i] = last
	p.pos[last] = i
	p.ids = p.ids[:len(p.ids)-1]
	delete(p.pos, id)
}

// cart is an open shopping cart.
type cart struct {
	id   string
	user int32
}

// consumerState is the seed 003 world: registered users, who is signed in,
// and open carts.
type consumerState struct {
	registered *pool // every registered user
	signedOut  *pool // registered and not signed in
	signedIn   *pool
	carts      []cart           // open carts
	cartOf     map[int32]string // user -> open cart id
	cartPos    map[string]int   // cart id -> index in carts
}

func newConsumerState() *consumerState {
	return &consumerState{
		registered: newPool(), signedOut: newPool(), signedIn: newPool(),
		cartOf: map[int32]string{}, cartPos: map[string]int{},
	}
}

func (s *consumerState) openCart(c cart) {
	s.cartPos[c.id] = len(s.carts)
	s.carts = append(s.carts, c)
	s.cartOf[c.user] = c.id
}

func (s *consumerState) closeCart(id string) {
	i, ok := s.cartPos[id]
	if !ok {
		return
	}
	c := s.carts[i]
	last := s.carts[len(s.carts)-1]
	s.carts[i] = last
	s.cartPos[last.id] = i
	s.carts = s.carts[:len(s.carts)-1]
	delete(s.cartPos, id)
	if s.cartOf[c.user] == id {
		delete(s.cartOf, c.user)
	}
}

// webUser is a row of the seed 004 users table.
type webUser struct {
	id           int32
	age          any // int or nil
	gender       any // string or nil
	country      any // string or nil
	subscription string
	name         string
}

type session struct {
	id   string
	user int32
}

// webState is the seed 004 world: the users table and recent sessions.
type webState struct {
	users    []*webUser
	ids      map[int32]bool
	sessions []session // ring of recent sessions
	next     int
}

const maxSessions = 512
